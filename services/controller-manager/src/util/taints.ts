/** Taint and toleration helpers: the shared ones live in @tskube/api. */
export {
  TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, TAINT_MEMORY_PRESSURE, TAINT_DISK_PRESSURE,
  TAINT_NETWORK_UNAVAILABLE, TAINT_PID_PRESSURE, sameTaint, toleratesTaint as tolerates,
} from '@tskube/api';
