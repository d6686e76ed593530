// What this teaches: the Container Network Interface is a contract between a runtime
// and small executables. The runtime runs a plugin with four environment variables
// (CNI_COMMAND=ADD|DEL|CHECK, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, plus CNI_PATH to
// find delegated plugins) and a JSON network configuration on stdin; the plugin answers
// with a JSON result (interfaces, IPs, routes, DNS) or a JSON error on stdout. A
// "conflist" chains plugins: each ADD receives the previous plugin's result as
// `prevResult`. These are the shapes of that JSON.
// Mirrors github.com/containernetworking/cni/libcni (NetworkConfigList, RuntimeConf)
// and pkg/types/100 (Result).

/** One plugin's configuration inside a conflist ({"type": "bridge", ...}). */
export interface PluginConfig {
  type: string;
  /** Which runtimeConfig entries this plugin wants (portMappings, bandwidth, ...). */
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

/** A network configuration list (a .conflist file, or a .conf turned into one). */
export interface NetworkConfigList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  plugins: PluginConfig[];
  /** The file it came from (for messages). */
  source?: string;
}

/** An IP configuration in a result ("10.22.0.5/24" via "10.22.0.1"). */
export interface ResultIp {
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
}

/** A CNI result (spec 1.0.0 shape; older 0.3/0.4 results are read into it). */
export interface CniResult {
  cniVersion: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: ResultIp[];
  routes?: { dst: string; gw?: string }[];
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
}

/** The error object a plugin prints when it fails. */
export interface CniErrorBody {
  cniVersion?: string;
  code: number;
  msg: string;
  details?: string;
}

/** One port mapping for the "portMappings" capability (the portmap plugin). */
export interface CniPortMapping {
  hostPort: number;
  containerPort: number;
  protocol: "tcp" | "udp";
  hostIP?: string;
}

/** Runtime-provided values for capabilities (passed as runtimeConfig). */
export interface CapabilityArgs {
  portMappings?: CniPortMapping[];
  [capability: string]: unknown;
}

/** How a CNI instance finds configurations and plugins. */
export interface CniOptions {
  /** Where conflists live (default /etc/cni/net.d). */
  confDir?: string;
  /** Where plugin executables live (default /opt/cni/bin and Debian's /usr/lib/cni). */
  binDirs?: string[];
  /** Where ADD results are kept for DEL and CHECK (default /var/lib/cni). */
  cacheDir?: string;
  /** How many networks of confDir to use, in file name order (default 1, as go-cni). */
  networkCount?: number;
  /** Add the loopback network ("lo" up), as go-cni's WithLoNetwork (default true). */
  loopback?: boolean;
  /** Interface name prefix inside the container (default "eth": eth0, eth1...). */
  interfacePrefix?: string;
  /**
   * mini addition: run the plugins inside this network namespace instead of the
   * caller's (tests use a throwaway "host" namespace so bridges and sysctls the plugins
   * touch stay inside it).
   */
  pluginNamespace?: string;
  /** Per-plugin time limit in milliseconds (default 60 s). */
  timeoutMs?: number;
}

/** What `setup` reports per interface, like go-cni's Result.Interfaces. */
export interface InterfaceConfig {
  mac?: string;
  sandbox?: string;
  ips: { address: string; prefixLength: number; gateway?: string }[];
}

/** The outcome of `setup`: the interfaces in the container and the raw results. */
export interface SetupResult {
  interfaces: Record<string, InterfaceConfig>;
  results: CniResult[];
}
