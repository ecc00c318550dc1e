import { storageConformance } from './conformance.js';
import { MemoryStorage } from './memory.js';

storageConformance('memory', async () => {
  const s = new MemoryStorage();
  return { storage: s, compact: (r) => s.compact(r), cleanup: () => s.close() };
});
