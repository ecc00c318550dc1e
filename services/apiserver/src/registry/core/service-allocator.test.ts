import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage } from '@tskube/storage';
import { AllocationError, IPAllocator, PortAllocator, IP_RECORD_PREFIX } from './service-allocator.js';
import { IPRange, PortRange, parseServiceCIDRs, staticBandSize } from './service-ranges.js';

const owner = (name: string) => ({ namespace: 'default', name });

test('ranges: usable addresses, static band, canonical forms', () => {
  const cases: [string, number, string, string, number][] = [
    // cidr, usable size, first, last, static band
    ['10.96.0.0/12', 2 ** 20 - 2, '10.96.0.1', '10.111.255.254', 256],
    ['192.168.1.0/24', 254, '192.168.1.1', '192.168.1.254', 16],
    ['10.0.0.0/29', 6, '10.0.0.1', '10.0.0.6', 0],
    ['fd00:10:96::/108', 2 ** 20 - 1, 'fd00:10:96::1', 'fd00:10:96::f:ffff', 256],
  ];
  for (const [cidr, size, first, last, band] of cases) {
    const r = new IPRange(cidr);
    assert.equal(r.size, size, cidr);
    assert.equal(r.ipAt(0), first, cidr);
    assert.equal(r.ipAt(size - 1), last, cidr);
    assert.equal(r.staticBand, band, cidr);
    assert.equal(r.offsetOf(first), 0);
    assert.equal(r.offsetOf(last), size - 1);
  }
  const r = new IPRange('10.96.0.0/12');
  assert.equal(r.offsetOf('10.96.0.0'), undefined, 'network address');
  assert.equal(r.offsetOf('10.111.255.255'), undefined, 'broadcast address');
  assert.equal(r.offsetOf('10.112.0.1'), undefined, 'outside');
  assert.equal(r.offsetOf('fd00::1'), undefined, 'other family');
  assert.equal(new IPRange('fd00:10:96::/108').canonical('fd00:10:96:0:0:0:0:a'), 'fd00:10:96::a');
  assert.equal(new IPRange('10.96.5.7/12').cidr, '10.96.0.0/12', 'host bits cleared');
  assert.throws(() => new IPRange('10.0.0.0/8'), /too large; for 32-bit addresses, the mask must be >= 12/);
  assert.throws(() => parseServiceCIDRs(['10.96.0.0/12', '10.200.0.0/16']), /different IP families/);
  assert.deepEqual(parseServiceCIDRs([]).map((x) => x.cidr), ['10.96.0.0/12']);
  const ports = PortRange.parse('30000-32767');
  assert.equal(ports.size, 2768);
  assert.equal(ports.staticBand, 86);
  assert.equal(ports.offsetOf(29999), undefined);
  assert.equal(staticBandSize(10, 16, 128, 32), 0);
});

test('claims are exclusive, out-of-range values rejected, release only by the owner', async () => {
  const storage = new MemoryStorage();
  const ips = new IPAllocator(storage, new IPRange('10.96.0.0/24'));
  assert.equal(await ips.claim('10.96.0.10', owner('a')), '10.96.0.10');
  await assert.rejects(ips.claim('10.96.0.10', owner('b')), (e) => e instanceof AllocationError && e.reason === 'allocated' && e.message === 'provided IP is already allocated');
  await assert.rejects(ips.claim('10.97.0.1', owner('b')), (e) => e instanceof AllocationError && e.message === 'provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/24');
  await ips.release('10.96.0.10', owner('b'));
  await assert.rejects(ips.claim('10.96.0.10', owner('c')), /already allocated/, 'a non-owner cannot release');
  await ips.release('10.96.0.10', owner('a'));
  await ips.release('10.96.0.10', owner('a'));
  assert.equal(await ips.claim('10.96.0.10', owner('c')), '10.96.0.10', 'free again after release');
  assert.equal(await ips.claim('10.96.0.11', owner('d'), true), '10.96.0.11');
  assert.equal((await ips.list()).length, 1, 'a dry run records nothing');
  await assert.rejects(ips.claim('10.96.0.10', owner('d'), true), /already allocated/, 'a dry run still sees taken values');
  const rec = (await storage.get(`${IP_RECORD_PREFIX}10.96.0.10`)) as unknown as { kind: string; spec: { parentRef: { name: string } } };
  assert.equal(rec.kind, 'IPAddress');
  assert.equal(rec.spec.parentRef.name, 'c');

  const ports = new PortAllocator(storage, PortRange.parse('30000-30009'));
  await assert.rejects(ports.claim(8080, owner('a')), (e) => e instanceof Error && e.message === 'provided port is not in the valid range. The range of valid ports is 30000-30009');
});

test('dynamic allocation prefers the upper band and fills the whole range before "range is full"', async () => {
  const storage = new MemoryStorage();
  const range = new IPRange('10.96.0.0/24');
  const ips = new IPAllocator(storage, range);
  const first = await ips.next(owner('x'));
  assert.ok(range.offsetOf(first)! >= range.staticBand, `${first} is in the upper band`);
  const got = new Set([first]);
  for (let i = 1; i < range.size; i++) got.add(await ips.next(owner(`s${i}`)));
  assert.equal(got.size, range.size, 'every address handed out once');
  await assert.rejects(ips.next(owner('late')), (e) => e instanceof AllocationError && e.reason === 'full' && e.message === 'range is full');
});

test('concurrent allocations never hand out a value twice', async () => {
  const storage = new MemoryStorage();
  // a small range makes collisions between concurrent random probes certain
  const ips = new IPAllocator(storage, new IPRange('10.96.0.0/28'));
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => ips.next(owner(`svc-${i}`))));
  const ok = results.filter((r): r is PromiseFulfilledResult<string> => r.status === 'fulfilled').map((r) => r.value);
  const full = results.filter((r) => r.status === 'rejected');
  assert.equal(ok.length, 14, 'a /28 has 14 usable addresses');
  assert.equal(new Set(ok).size, 14, 'no address twice');
  assert.equal(full.length, 6);
  for (const r of full) assert.ok((r as PromiseRejectedResult).reason instanceof AllocationError);
  // the same explicit value requested concurrently: exactly one winner
  const ports = new PortAllocator(storage, PortRange.parse('30000-32767'));
  const same = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => ports.claim(30080, owner(`p${i}`))));
  assert.equal(same.filter((r) => r.status === 'fulfilled').length, 1);
  const many = await Promise.all(Array.from({ length: 50 }, (_, i) => ports.next(owner(`n${i}`))));
  assert.equal(new Set([...many, 30080]).size, 51);
});
