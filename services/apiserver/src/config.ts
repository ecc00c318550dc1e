/** apiserver configuration from the environment, validated once at start (see docs/operations.md). */
import { parseLogLevel, type LogLevel } from '@tskube/log';
import { DEFAULT_SERVICE_CLUSTER_IP_RANGE, parseServiceCIDRs } from './registry/core/service-ranges.js';

export interface ApiServerConfig {
  etcdServers: string[];
  bindAddress: string;
  securePort: number;
  dataDir: string;
  externalUrl: string;
  internalUrl: string;
  extraSans: string[];
  logLevel: LogLevel;
  /** Longest a watch without timeoutSeconds stays open (randomised up to 2x, like upstream). */
  minRequestTimeoutSeconds: number;
  /** Largest request body accepted (upstream: 3 MiB). */
  maxRequestBytes: number;
  /** Kubernetes version reported by /version. */
  version: { major: string; minor: string; gitVersion: string };
  /** Service ClusterIP ranges, one CIDR per IP family (TSKUBE_SERVICE_CLUSTER_IP_RANGE, default 10.96.0.0/12). */
  serviceClusterIPRanges: string[];
  /** Admission plugins turned off (TSKUBE_DISABLE_ADMISSION_PLUGINS, upstream --disable-admission-plugins), e.g. ServiceAccount. */
  disableAdmissionPlugins: string[];
}

function int(name: string, v: string | undefined, dflt: number, min = 0, max = 65535): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in [${min}, ${max}], got "${v}"`);
  return n;
}

function list(v: string | undefined, dflt: string[]): string[] {
  if (v === undefined || v.trim() === '') return dflt;
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

function serviceCIDRs(v: string | undefined): string[] {
  const cidrs = list(v, [DEFAULT_SERVICE_CLUSTER_IP_RANGE]);
  try {
    return parseServiceCIDRs(cidrs).map((r) => r.cidr);
  } catch (e) {
    throw new Error(`TSKUBE_SERVICE_CLUSTER_IP_RANGE: ${(e as Error).message}`);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ApiServerConfig {
  const securePort = int('TSKUBE_SECURE_PORT', env.TSKUBE_SECURE_PORT, 6443);
  return {
    etcdServers: list(env.TSKUBE_ETCD_SERVERS, ['http://127.0.0.1:2379']),
    bindAddress: env.TSKUBE_BIND_ADDRESS || '0.0.0.0',
    securePort,
    dataDir: env.TSKUBE_DATA_DIR || '/var/lib/tskube',
    externalUrl: env.TSKUBE_EXTERNAL_URL || `https://127.0.0.1:${securePort}`,
    internalUrl: env.TSKUBE_INTERNAL_URL || `https://apiserver:${securePort}`,
    extraSans: list(env.TSKUBE_EXTRA_SANS, []),
    logLevel: parseLogLevel(env.TSKUBE_LOG_LEVEL),
    minRequestTimeoutSeconds: int('TSKUBE_MIN_REQUEST_TIMEOUT', env.TSKUBE_MIN_REQUEST_TIMEOUT, 1800, 1, 86400),
    maxRequestBytes: 3 * 1024 * 1024,
    version: { major: '1', minor: '32', gitVersion: 'v1.32.0-tskube' },
    serviceClusterIPRanges: serviceCIDRs(env.TSKUBE_SERVICE_CLUSTER_IP_RANGE),
    disableAdmissionPlugins: list(env.TSKUBE_DISABLE_ADMISSION_PLUGINS, []),
  };
}
