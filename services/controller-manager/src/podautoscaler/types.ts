/**
 * The autoscaling/v2 shapes the HorizontalPodAutoscaler controller works with, derived from
 * `@tskube/api`'s HorizontalPodAutoscalerV2 (kubernetes-types), plus the autoscaling/v1 Scale
 * of the scale subresource.
 */
import { RESOURCES, type HorizontalPodAutoscalerV2, type ObjectMeta } from '@tskube/api';
import { namespacedType } from '@tskube/client';

export type HPA = HorizontalPodAutoscalerV2;
export type HPASpec = NonNullable<HPA['spec']>;
export type HPAStatus = NonNullable<HPA['status']>;
export type HPACondition = NonNullable<HPAStatus['conditions']>[number];
export type MetricSpec = NonNullable<HPASpec['metrics']>[number];
export type MetricStatus = NonNullable<HPAStatus['currentMetrics']>[number];
export type MetricValueStatus = NonNullable<NonNullable<MetricStatus['resource']>['current']>;
export type MetricTarget = NonNullable<MetricSpec['resource']>['target'];
export type CrossVersionObjectReference = HPASpec['scaleTargetRef'];
export type HPABehavior = NonNullable<HPASpec['behavior']>;
export type HPAScalingRules = NonNullable<HPABehavior['scaleUp']>;
export type ConditionType = 'AbleToScale' | 'ScalingActive' | 'ScalingLimited';
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** autoscaling/v1 Scale, as the scale subresource of Deployments, ReplicaSets, StatefulSets and RCs serves it. */
export interface Scale {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

const HPA_DEF = RESOURCES.find((r) => r.group === 'autoscaling' && r.version === 'v2' && r.plural === 'horizontalpodautoscalers');
if (!HPA_DEF) throw new Error('resource table has no autoscaling/v2 horizontalpodautoscalers');
/** autoscaling/v2 horizontalpodautoscalers (the stored version). */
export const HPA_RESOURCE = namespacedType<HPA>(HPA_DEF);
