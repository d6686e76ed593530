// What this teaches: talking to the kernel's routing subsystem without any program in
// between. A NETLINK_ROUTE socket is a datagram pipe to the kernel: write a request
// message, read back an acknowledgement (an NLMSG_ERROR whose error is 0) or an errno;
// for a dump, read messages until NLMSG_DONE. A netlink socket belongs to the network
// namespace it was created in, for its whole life, so one socket per namespace is all a
// caller needs to configure interfaces inside a container.
// Mirrors github.com/vishvananda/netlink/nl (NetlinkSocket, Execute) as libnetwork uses it.

import { check, LinuxError } from "../../linux/errors.ts";
import { closeFile, readFile, writeAll } from "../../linux/files.ts";
import { syscall } from "../../linux/libc.ts";
import { inNetworkNamespace } from "../sandbox/enter.ts";
import { HeaderSize, MessageFlags, MessageType, SocketConstants } from "./constants.ts";
import { MessageWriter, type NetlinkMessage, parseMessages } from "./message.ts";

const receiveBufferSize = 1 << 16;

/** An rtnetlink socket in one network namespace. Close it when done. */
export class NetlinkSocket {
  #sequence = 1;
  #buffer = new Uint8Array(receiveBufferSize);
  #closed = false;

  private constructor(readonly fd: number) {}

  /** A socket in the calling thread's network namespace. */
  static open(): NetlinkSocket {
    const fd = check(
      syscall(
        "socket",
        SocketConstants.AF_NETLINK,
        SocketConstants.SOCK_RAW | SocketConstants.SOCK_CLOEXEC,
        SocketConstants.NETLINK_ROUTE,
      ),
      "socket",
      () => "AF_NETLINK NETLINK_ROUTE",
    );
    return new NetlinkSocket(fd);
  }

  /**
   * A socket inside the network namespace at `namespacePath`: the main thread steps in
   * just long enough to create it (see sandbox/enter.ts), and the socket stays there.
   */
  static openIn(namespacePath: string): NetlinkSocket {
    return inNetworkNamespace(namespacePath, () => NetlinkSocket.open());
  }

  /**
   * Sends a request that changes something and waits for the kernel's acknowledgement.
   * `describe` names the operation in the error ("create bridge mini0").
   */
  request(
    type: number,
    flags: number,
    body: (writer: MessageWriter) => void,
    describe: string,
  ): void {
    const sequence = this.#send(type, flags | MessageFlags.REQUEST | MessageFlags.ACK, body);
    for (;;) {
      for (const message of this.#receive()) {
        if (message.sequence !== sequence) continue;
        if (message.type === MessageType.ERROR) {
          const errno = -errorCode(message);
          if (errno !== 0) throw new LinuxError(`netlink ${describe}`, errno);
          return;
        }
      }
    }
  }

  /** Sends a dump request (every link, address or route) and collects the replies. */
  dump(type: number, body: (writer: MessageWriter) => void, describe: string): NetlinkMessage[] {
    const sequence = this.#send(type, MessageFlags.REQUEST | MessageFlags.DUMP, body);
    const replies: NetlinkMessage[] = [];
    for (;;) {
      for (const message of this.#receive()) {
        if (message.sequence !== sequence) continue;
        if (message.type === MessageType.DONE) return replies;
        if (message.type === MessageType.ERROR) {
          const errno = -errorCode(message);
          if (errno !== 0) throw new LinuxError(`netlink ${describe}`, errno);
          return replies;
        }
        replies.push(message);
      }
    }
  }

  /** Sends a request answered by exactly one message (RTM_GETLINK for one name). */
  get(
    type: number,
    body: (writer: MessageWriter) => void,
    describe: string,
  ): NetlinkMessage {
    const sequence = this.#send(type, MessageFlags.REQUEST, body);
    for (;;) {
      for (const message of this.#receive()) {
        if (message.sequence !== sequence) continue;
        if (message.type === MessageType.ERROR) {
          throw new LinuxError(`netlink ${describe}`, -errorCode(message));
        }
        return message;
      }
    }
  }

  /** Closes the socket. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeFile(this.fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #send(type: number, flags: number, body: (writer: MessageWriter) => void): number {
    if (this.#closed) throw new Error("netlink socket is closed");
    const sequence = this.#sequence++;
    const writer = new MessageWriter(type, flags, sequence);
    body(writer);
    writeAll(this.fd, writer.finish());
    return sequence;
  }

  #receive(): NetlinkMessage[] {
    const length = readFile(this.fd, this.#buffer);
    return parseMessages(this.#buffer.slice(0, length));
  }
}

/** The (negative) errno in an NLMSG_ERROR message; 0 means "acknowledged". */
function errorCode(message: NetlinkMessage): number {
  if (message.payload.length < 4) return 0;
  return new DataView(message.payload.buffer, message.payload.byteOffset, HeaderSize.ATTRIBUTE)
    .getInt32(0, true);
}
