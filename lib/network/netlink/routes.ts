// What this teaches: a route is a row in a routing table: "to reach DESTINATION/LEN, send
// through interface OIF, via GATEWAY". A container needs exactly one route added by
// hand, the default one via its bridge's gateway; its subnet's route appeared when its
// address was added. One RTM_NEWROUTE message per route.
// Mirrors github.com/vishvananda/netlink/route_linux.go (RouteAdd, RouteList).

import {
  AddressFamily,
  HeaderSize,
  MessageFlags,
  MessageType,
  RouteAttribute,
  RouteConstants,
} from "./constants.ts";
import { attributeU32, type MessageWriter, parseAttributes } from "./message.ts";
import type { NetlinkSocket } from "./socket.ts";
import { formatIPv4, ipv4Bytes, ipv4FromBytes } from "../ipv4.ts";

/** One IPv4 route of the main table. */
export interface RouteInfo {
  /** The destination network (0 with prefix 0 is the default route). */
  destination: number;
  prefixLength: number;
  gateway?: number;
  outputIndex?: number;
  preferredSource?: number;
  scope: number;
  protocol: number;
}

/** A route to add: the default route when `destination` is omitted. */
export interface RouteRequest {
  destination?: { network: number; prefixLength: number };
  gateway?: number;
  outputIndex?: number;
}

function writeRouteInfo(
  writer: MessageWriter,
  prefixLength: number,
  scope: number,
  protocol: number,
  type: number,
): void {
  writer.u8(AddressFamily.INET).u8(prefixLength).u8(0).u8(0)
    .u8(RouteConstants.TABLE_MAIN).u8(protocol).u8(scope).u8(type).u32(0);
}

/** Adds a route (`ip route add default via GW dev DEV`). */
export function addRoute(socket: NetlinkSocket, route: RouteRequest): void {
  const prefixLength = route.destination?.prefixLength ?? 0;
  // A route through a gateway reaches beyond the link; one without is on-link.
  const scope = route.gateway !== undefined
    ? RouteConstants.SCOPE_UNIVERSE
    : RouteConstants.SCOPE_LINK;
  const target = route.destination
    ? `${formatIPv4(route.destination.network)}/${prefixLength}`
    : "default";
  socket.request(
    MessageType.NEWROUTE,
    MessageFlags.CREATE | MessageFlags.EXCL,
    (writer) => {
      writeRouteInfo(
        writer,
        prefixLength,
        scope,
        RouteConstants.PROTOCOL_BOOT,
        RouteConstants.TYPE_UNICAST,
      );
      if (route.destination && prefixLength > 0) {
        writer.attribute(RouteAttribute.DST, ipv4Bytes(route.destination.network));
      }
      if (route.gateway !== undefined) {
        writer.attribute(RouteAttribute.GATEWAY, ipv4Bytes(route.gateway));
      }
      if (route.outputIndex !== undefined) {
        writer.u32Attribute(RouteAttribute.OIF, route.outputIndex);
      }
    },
    `add route ${target}${route.gateway !== undefined ? ` via ${formatIPv4(route.gateway)}` : ""}`,
  );
}

/** The IPv4 routes of the main table in the socket's namespace. */
export function listRoutes(socket: NetlinkSocket): RouteInfo[] {
  return socket.dump(
    MessageType.GETROUTE,
    (writer) => writeRouteInfo(writer, 0, 0, 0, 0),
    "list routes",
  )
    .filter((message) => message.type === MessageType.NEWROUTE)
    .flatMap((message) => {
      const bytes = message.payload;
      if (bytes[0] !== AddressFamily.INET) return [];
      const attributes = parseAttributes(bytes, HeaderSize.ROUTE);
      const table = attributeU32(attributes.get(RouteAttribute.TABLE)) ?? bytes[4];
      if (table !== RouteConstants.TABLE_MAIN) return [];
      const destination = attributes.get(RouteAttribute.DST);
      const gateway = attributes.get(RouteAttribute.GATEWAY);
      const source = attributes.get(RouteAttribute.PREFSRC);
      return [{
        destination: destination ? ipv4FromBytes(destination) : 0,
        prefixLength: bytes[1],
        gateway: gateway ? ipv4FromBytes(gateway) : undefined,
        outputIndex: attributeU32(attributes.get(RouteAttribute.OIF)),
        preferredSource: source ? ipv4FromBytes(source) : undefined,
        scope: bytes[6],
        protocol: bytes[5],
      }];
    });
}
