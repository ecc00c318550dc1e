/**
 * NamespaceLifecycle (upstream plugin of the same name): no new objects in a namespace
 * that does not exist or is terminating, and the system namespaces cannot be deleted.
 */
import { ApiError, forbidden, groupResourceString, notFound, type Namespace } from '@tskube/api';
import type { AdmissionAttributes, MutatingPlugin, ValidatingPlugin } from './admission.js';

export const IMMORTAL_NAMESPACES = ['default', 'kube-system', 'kube-public'];

export class NamespaceLifecycle implements MutatingPlugin, ValidatingPlugin {
  readonly name = 'NamespaceLifecycle';
  constructor(private readonly getNamespace: (name: string) => Promise<Namespace | null>) {}

  /**
   * Upstream runs this plugin first, in the mutating phase, so that a write into a missing
   * namespace is a 404 before any other plugin (e.g. ServiceAccount) looks into it; the same
   * check runs again among the validating plugins.
   */
  admit(a: AdmissionAttributes): Promise<void> {
    return this.validate(a);
  }

  async validate(a: AdmissionAttributes): Promise<void> {
    const gr = { group: a.resource.group, resource: a.resource.plural };
    if (a.resource.kind === 'Namespace' && a.operation === 'DELETE' && IMMORTAL_NAMESPACES.includes(a.name)) {
      throw forbidden(`namespaces "${a.name}" is forbidden: this namespace may not be deleted`);
    }
    if (!a.resource.namespaced || a.operation !== 'CREATE' || !a.namespace) return;
    const ns = await this.getNamespace(a.namespace);
    if (!ns) throw notFound({ group: '', resource: 'namespaces' }, a.namespace);
    // Events may still be written into a terminating namespace (upstream exempts them too).
    if (ns.status?.phase === 'Terminating' && a.resource.kind !== 'Event') {
      const what = a.name ? `${groupResourceString(gr)} "${a.name}"` : groupResourceString(gr);
      throw new ApiError(403, 'Forbidden',
        `${what} is forbidden: unable to create new content in namespace ${a.namespace} because it is being terminated`,
        { name: a.name, group: gr.group || undefined, kind: gr.resource, causes: [{ reason: 'NamespaceTerminating', message: `namespace ${a.namespace} is being terminated`, field: 'metadata.namespace' }] });
    }
  }
}
