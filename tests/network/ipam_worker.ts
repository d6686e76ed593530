// A separate process for the IPAM concurrency test: allocates `count` addresses from
// one pool of one state file and prints them as JSON.
import { AddressAllocator } from "../../lib/network/ipam/allocator.ts";

const [statePath, poolId, countText, owner] = Deno.args;
const allocator = new AddressAllocator(statePath);
const addresses: string[] = [];
for (let index = 0; index < Number(countText); index++) {
  addresses.push((await allocator.requestAddress(poolId, `${owner}-${index}`)).address);
}
console.log(JSON.stringify(addresses));
