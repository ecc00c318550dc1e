/**
 * endpointslices: strategy after upstream pkg/registry/discovery/endpointslice (generation
 * counts changes; addressType is immutable). Slices of a Service carry the
 * `kubernetes.io/service-name` label, which label selectors find like any other.
 */
import { defaultEndpointSlice, typed, validateEndpointSlice, validateEndpointSliceUpdate, type EndpointSlice } from '@tskube/api';
import { plainStrategy, type Strategy, type TableConvertor } from '../strategy.js';
import { age } from '../../tables/duration.js';
import { AGE_COL, NAME_COL, col } from '../../tables/columns.js';
import { nameOf } from '../apps/tables.js';

/** upstream listWithMoreString: the first three, then "+ N more...", `<unset>` when empty. */
function listWithMore(items: string[], max = 3): string {
  if (items.length > max) return `${items.slice(0, max).join(',')} + ${items.length - max} more...`;
  return items.length ? items.join(',') : '<unset>';
}

export const endpointSliceTable: TableConvertor = {
  columns: [
    NAME_COL,
    col('AddressType', 'string', 'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.'),
    col('Ports', 'string', 'ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates "all ports". Each slice may include a maximum of 100 ports.'),
    col('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.'),
    AGE_COL,
  ],
  cells: (o, now) => {
    const s = typed<EndpointSlice>(o);
    const ports = (s.ports ?? []).map((p) => (p.port !== undefined ? String(p.port) : p.name !== undefined ? p.name : '*'));
    const addrs = (s.endpoints ?? []).flatMap((e) => e.addresses ?? []);
    return [nameOf(o), s.addressType ?? '', listWithMore(ports), listWithMore(addrs), age(o.metadata?.creationTimestamp, now)];
  },
};

export const endpointSliceStrategy: Strategy = {
  ...plainStrategy,
  applyDefaults: (o) => defaultEndpointSlice(typed<EndpointSlice>(o)),
  validate: (o) => validateEndpointSlice(typed<EndpointSlice>(o)),
  validateUpdate: (o, old) => validateEndpointSliceUpdate(typed<EndpointSlice>(o), typed<EndpointSlice>(old)),
  hasGeneration: true,
  table: endpointSliceTable,
};
