/**
 * runtime-native: containers through the tsbuild-init helper (namespaces,
 * mounts, cgroups, capabilities), with Docker's defaults.
 */
export { type CgroupInfo, type ContainerStats, readCgroupStats } from './cgroup-stats.js';
export {
  CAPABILITIES,
  type CapabilityName,
  containerResolvConf,
  DEFAULT_CAPABILITIES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_PATH,
  DEFAULT_READONLY_PATHS,
  defaultHosts,
  RLIMITS,
  type RlimitName,
} from './defaults.js';
export { errnoName, RuntimeError } from './errors.js';
export { type IdMapEntry, type IdMapping, parseSubordinateIds, rootlessIdMapping } from './id-map.js';
export type { ImageConfigLike } from './image-config.js';
export { type MountLike, rootfsFromMounts } from './mounts-to-rootfs.js';
export {
  Container,
  NativeRuntime,
  type NativeRuntimeOptions,
  type RunResult,
  type StdioOptions,
  type StdioValue,
} from './native-runtime.js';
export { parseCpus, parseEnvEntry, parseEnvFile, parseMemoryBytes, parsePidsLimit, parseVolume } from './options.js';
export { readRootfsFile, rootfsLayers } from './rootfs-files.js';
export { buildRunSpec, type RunContainerOptions, type RunFlags, type RunIo, runContainer } from './run-container.js';
export {
  type MountSpec,
  mergeEnv,
  type OverlayRootfs,
  type Resources,
  type Rlimit,
  type RunSpec,
  type RunUser,
  validateEnv,
  validateRunSpec,
} from './run-spec.js';
export {
  type ExecUser,
  type GroupEntry,
  type PasswdEntry,
  parseGroup,
  parseId,
  parsePasswd,
  resolveUser,
} from './user.js';
