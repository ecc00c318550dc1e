/** In-tree plugin names, spelled as upstream (plugins/names/names.go). */
export const Names = {
  PrioritySort: 'PrioritySort',
  NodeUnschedulable: 'NodeUnschedulable',
  NodeName: 'NodeName',
  TaintToleration: 'TaintToleration',
  NodeAffinity: 'NodeAffinity',
  NodeResourcesFit: 'NodeResourcesFit',
  NodeResourcesBalancedAllocation: 'NodeResourcesBalancedAllocation',
  DefaultPreemption: 'DefaultPreemption',
  DefaultBinder: 'DefaultBinder',
  NodePorts: 'NodePorts',
  PodTopologySpread: 'PodTopologySpread',
  InterPodAffinity: 'InterPodAffinity',
  ImageLocality: 'ImageLocality',
} as const;
