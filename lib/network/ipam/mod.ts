// What this teaches: IP address management as its own small component: pools of
// subnets, addresses handed out and taken back, a file lock for multi-process safety.
// Mirrors libnetwork's ipam package (the "default" IPAM driver).
export * from "./allocator.ts";
export { withFileLock } from "./file_lock.ts";
