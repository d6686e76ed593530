// What this teaches: the three small files that make a container feel like a host:
// /etc/hosts, /etc/hostname, /etc/resolv.conf. Mirrors libnetwork's etchosts and
// resolvconf packages.
export * from "./hosts.ts";
export * from "./resolvconf.ts";
