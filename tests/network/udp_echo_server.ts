// A UDP echo server for the proxy test, started inside a test namespace: answers each
// datagram with "echo:" + its content, and prints "ready" once bound.
import dgram from "node:dgram";

const [hostname, port] = Deno.args;
const socket = dgram.createSocket("udp4");
socket.on("message", (message, from) => {
  socket.send(`echo:${message.toString()}`, from.port, from.address);
});
socket.bind(Number(port), hostname, () => console.log("ready"));
