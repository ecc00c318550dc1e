export * from './interface.js';
export * from './errors.js';
export { EtcdStorage, type EtcdStorageOptions } from './etcd.js';
export { MemoryStorage, type MemoryStorageOptions } from './memory.js';
export { EventQueue } from './util.js';
export { CachedStorage, defaultResourcePrefix, defaultKeyOf, type CachedStorageOptions } from './cacher.js';
export type { WatchCacheInfo } from './watch-cache.js';
