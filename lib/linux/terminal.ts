// What this teaches: how a container gets a terminal. The init opens a pseudo-terminal
// pair inside the container's own devpts, makes the secondary end its stdio and
// controlling terminal, and hands the primary end to whoever drives the terminal (the
// shim, or `mini-runc run`) by sending the descriptor itself over a Unix socket
// (SCM_RIGHTS). Mirrors runc's libcontainer/console_linux.go and libcontainer/utils
// (SendFd/RecvFd) and the --console-socket protocol containerd's shim speaks.

import { check } from "./errors.ts";
import { addressOf, cString, syscall, syscallInBackground } from "./libc.ts";
import { openFile, OpenFlags } from "./files.ts";

const TIOCSPTLCK = 0x40045431;
const TIOCGPTN = 0x80045430;
const TIOCSCTTY = 0x540e;
const TIOCSWINSZ = 0x5414;

/** A pseudo-terminal pair: `primary` drives it, `secondary` is the program's terminal. */
export interface PseudoTerminal {
  primary: number;
  secondary: number;
  secondaryPath: string;
}

/** Opens a new pty pair from `ptmx` (inside a container: its /dev/ptmx → pts/ptmx). */
export function openPseudoTerminal(ptmx = "/dev/ptmx"): PseudoTerminal {
  const primary = openFile(ptmx, OpenFlags.RDWR | OpenFlags.NOCTTY | OpenFlags.CLOEXEC);
  const unlock = new Int32Array([0]);
  check(syscall("ioctl", primary, TIOCSPTLCK, unlock), "ioctl(TIOCSPTLCK)");
  const number = new Int32Array(1);
  check(syscall("ioctl", primary, TIOCGPTN, number), "ioctl(TIOCGPTN)");
  const secondaryPath = `/dev/pts/${number[0]}`;
  const secondary = openFile(secondaryPath, OpenFlags.RDWR | OpenFlags.NOCTTY);
  return { primary, secondary, secondaryPath };
}

/** Sets a terminal's size in character cells. */
export function setWindowSize(fd: number, rows: number, columns: number): void {
  const size = new Uint16Array([rows, columns, 0, 0]);
  check(syscall("ioctl", fd, TIOCSWINSZ, size), "ioctl(TIOCSWINSZ)");
}

/** Makes `fd` the controlling terminal of the calling session leader. */
export function makeControllingTerminal(fd: number): void {
  check(syscall("ioctl", fd, TIOCSCTTY, 0), "ioctl(TIOCSCTTY)");
}

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;

function unixAddress(path: string): { address: Uint8Array<ArrayBuffer>; length: number } {
  const address = new Uint8Array(110); // struct sockaddr_un
  new DataView(address.buffer).setUint16(0, AF_UNIX, true);
  const pathBytes = cString(path);
  if (pathBytes.length > 108) throw new Error(`socket path too long: ${path}`);
  address.set(pathBytes, 2);
  return { address, length: 2 + pathBytes.length };
}

/** Connects to a Unix stream socket; returns the close-on-exec descriptor. */
export function connectUnix(path: string): number {
  const fd = check(syscall("socket", AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
  const { address, length } = unixAddress(path);
  check(syscall("connect", fd, address, length), "connect", () => path);
  return fd;
}

/**
 * Listens on a new Unix stream socket at `path`: the console socket a caller of
 * `create --console-socket` (the shim) offers. Returns the listening descriptor.
 */
export function listenUnix(path: string): number {
  const fd = check(syscall("socket", AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
  const { address, length } = unixAddress(path);
  check(syscall("bind", fd, address, length), "bind", () => path);
  check(syscall("listen", fd, 1), "listen", () => path);
  return fd;
}

/** accept4(2) on a worker thread (the event loop keeps running); the new fd is CLOEXEC. */
export async function acceptInBackground(listeningFd: number): Promise<number> {
  const fd = await syscallInBackground("accept4", listeningFd, null, null, SOCK_CLOEXEC);
  if (fd < 0) throw new Error(`accept on fd ${listeningFd} failed`);
  return fd;
}

/**
 * The receiving side of --console-socket: accepts the runtime's connection and returns
 * the pty primary end it sends. Start it before `create`, await it after.
 */
export async function receiveConsole(listeningFd: number): Promise<{ fd: number; name: string }> {
  const connection = await acceptInBackground(listeningFd);
  try {
    return await receiveFdInBackground(connection);
  } finally {
    syscall("close", connection);
  }
}

// struct msghdr (56 bytes on x86_64) with one iovec and one SCM_RIGHTS control message.
function messageHeader(payload: Uint8Array<ArrayBuffer>, control: Uint8Array<ArrayBuffer>) {
  const iovec = new BigUint64Array([addressOf(payload), BigInt(payload.length)]);
  const header = new BigUint64Array(7);
  header[2] = addressOf(iovec);
  header[3] = 1n;
  header[4] = addressOf(control);
  header[5] = BigInt(control.length);
  return { header, iovec };
}

/** Sends descriptor `fd` over the connected Unix socket, with `name` as the message. */
export function sendFd(socketFd: number, fd: number, name: string): void {
  const payload = new TextEncoder().encode(name) as Uint8Array<ArrayBuffer>;
  const control = new Uint8Array(24); // CMSG_SPACE(sizeof(int))
  const view = new DataView(control.buffer);
  view.setBigUint64(0, 20n, true); // CMSG_LEN(sizeof(int))
  view.setInt32(8, SOL_SOCKET, true);
  view.setInt32(12, SCM_RIGHTS, true);
  view.setInt32(16, fd, true);
  const { header, iovec } = messageHeader(payload, control);
  check(syscall("sendmsg", socketFd, header, 0), "sendmsg");
  void iovec;
}

function receivedDescriptor(
  length: number,
  payload: Uint8Array<ArrayBuffer>,
  control: Uint8Array<ArrayBuffer>,
): { fd: number; name: string } {
  const view = new DataView(control.buffer);
  if (view.getInt32(8, true) !== SOL_SOCKET || view.getInt32(12, true) !== SCM_RIGHTS) {
    throw new Error("the console socket message carried no file descriptor");
  }
  return {
    fd: view.getInt32(16, true),
    name: new TextDecoder().decode(payload.subarray(0, length)),
  };
}

/** Receives one descriptor sent with sendFd; returns it and the accompanying name. */
export function receiveFd(socketFd: number): { fd: number; name: string } {
  const payload = new Uint8Array(4096);
  const control = new Uint8Array(24);
  const { header, iovec } = messageHeader(payload, control);
  const length = check(syscall("recvmsg", socketFd, header, 0), "recvmsg");
  void iovec;
  return receivedDescriptor(length, payload, control);
}

/** receiveFd on a worker thread, for callers that must keep their event loop running. */
export async function receiveFdInBackground(
  socketFd: number,
): Promise<{ fd: number; name: string }> {
  const payload = new Uint8Array(4096);
  const control = new Uint8Array(24);
  const { header, iovec } = messageHeader(payload, control);
  const length = await syscallInBackground("recvmsg", socketFd, header, 0);
  void iovec;
  if (length < 0) throw new Error(`recvmsg on fd ${socketFd} failed`);
  return receivedDescriptor(length, payload, control);
}
