/** The in-tree registry: every plugin tskube ships, by upstream name (upstream plugins/registry.go). */
import { Registry } from '../framework/registry.js';
import { BalancedAllocation } from './balanced-allocation.js';
import { DefaultBinder } from './default-binder.js';
import { DefaultPreemption } from './default-preemption.js';
import { Names } from './names.js';
import { NodeAffinity } from './node-affinity.js';
import { NodeName } from './node-name.js';
import { NodeResourcesFit } from './node-resources-fit.js';
import { NodeUnschedulable } from './node-unschedulable.js';
import { PrioritySort } from './priority-sort.js';
import { TaintToleration } from './taint-toleration.js';
import { NodePorts } from './node-ports.js';
import { PodTopologySpread } from './pod-topology-spread.js';
import { InterPodAffinity } from './inter-pod-affinity.js';
import { ImageLocality } from './image-locality.js';

export { Names } from './names.js';

/** A fresh registry holding the in-tree plugins; callers may register more. */
export function inTreeRegistry(): Registry {
  return new Registry({
    [Names.PrioritySort]: () => new PrioritySort(),
    [Names.NodeUnschedulable]: () => new NodeUnschedulable(),
    [Names.NodeName]: () => new NodeName(),
    [Names.TaintToleration]: () => new TaintToleration(),
    [Names.NodeAffinity]: () => new NodeAffinity(),
    [Names.NodeResourcesFit]: () => new NodeResourcesFit(),
    [Names.NodeResourcesBalancedAllocation]: () => new BalancedAllocation(),
    [Names.DefaultPreemption]: (h) => new DefaultPreemption(h),
    [Names.DefaultBinder]: (h) => new DefaultBinder(h),
    [Names.NodePorts]: () => new NodePorts(),
    [Names.PodTopologySpread]: (h) => new PodTopologySpread(h),
    [Names.InterPodAffinity]: (h) => new InterPodAffinity(h),
    [Names.ImageLocality]: (h) => new ImageLocality(h),
  });
}
