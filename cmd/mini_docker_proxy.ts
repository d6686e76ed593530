// mini-docker-proxy: forwards one published port (tcp or udp) from a host address to a
// container address; one process per port, started and stopped by mini-dockerd.
// Mirrors moby's cmd/docker-proxy. Usage:
//   mini-docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 8080 \
//     -container-ip 172.28.0.2 -container-port 80
import { proxyMain } from "../lib/network/portmapper/proxy_command.ts";

if (import.meta.main) Deno.exit(await proxyMain(Deno.args));
