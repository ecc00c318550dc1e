/**
 * horizontalpodautoscalers (+status), served as autoscaling/v2 (preferred, stored) and
 * autoscaling/v1 (converted on every read and write; @tskube/api autoscaling-conversion.ts).
 * Strategy after upstream pkg/registry/autoscaling/horizontalpodautoscaler/strategy.go: create and
 * main-resource updates never set status; /status never changes spec. No metadata.generation.
 */
import {
  CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION, METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, defaultHPAv2, hpaV1ToV2, hpaV2ToV1,
  typed, validateHPAStatus, validateHPAv2, validateHPAv2Update,
  type HPAMetricSpec, type HPAMetricStatus, type HorizontalPodAutoscalerV1, type HorizontalPodAutoscalerV2, type KubeObject,
} from '@tskube/api';
import type { Conversion } from '../module.js';
import { keepSpec, keepStatus, type Strategy, type TableConvertor } from '../strategy.js';
import { age } from '../../tables/duration.js';
import { AGE_COL, NAME_COL, col } from '../../tables/columns.js';
import { nameOf } from '../apps/tables.js';

// ---- table (upstream printHorizontalPodAutoscaler / formatHPAMetrics) ----------------------

function metricCell(spec: HPAMetricSpec, status: HPAMetricStatus | undefined): string {
  const unknown = '<unknown>';
  switch (spec.type) {
    case 'External': {
      const t = spec.external?.target;
      if (t?.averageValue !== undefined) return `${status?.external?.current?.averageValue ?? unknown}/${t.averageValue} (avg)`;
      return `${status?.external?.current?.value ?? unknown}/${t?.value ?? ''}`;
    }
    case 'Pods':
      return `${status?.pods?.current?.averageValue ?? unknown}/${spec.pods?.target?.averageValue ?? ''}`;
    case 'Object': {
      const t = spec.object?.target;
      if (t?.averageValue !== undefined) return `${status?.object?.current?.averageValue ?? unknown}/${t.averageValue} (avg)`;
      return `${status?.object?.current?.value ?? unknown}/${t?.value ?? ''}`;
    }
    case 'Resource':
    case 'ContainerResource': {
      const src = spec.type === 'Resource' ? spec.resource : spec.containerResource;
      const cur = spec.type === 'Resource' ? status?.resource?.current : status?.containerResource?.current;
      const name = src?.name ?? '';
      if (src?.target?.averageValue !== undefined) return `${name}: ${cur?.averageValue ?? unknown}/${src.target.averageValue}`;
      const current = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : unknown;
      const target = src?.target?.averageUtilization !== undefined ? `${src.target.averageUtilization}%` : '<auto>';
      return `${name}: ${current}/${target}`;
    }
    default:
      return '<unknown type>';
  }
}

/** The TARGETS cell: the first two metrics, then "+ N more...". */
export function formatHPAMetrics(specs: HPAMetricSpec[] | undefined, statuses: HPAMetricStatus[] | undefined): string {
  if (!specs?.length) return '<none>';
  const list = specs.map((s, i) => metricCell(s, statuses?.[i]));
  return list.length > 2 ? `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...` : list.join(', ');
}

const hpaColumns = [
  NAME_COL,
  col('Reference', 'string', 'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.'),
  col('Targets', 'string', 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond.'),
  col('MinPods', 'string', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.'),
  col('MaxPods', 'string', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.'),
  col('Replicas', 'string', 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.'),
  AGE_COL,
];

function hpaCells(h: HorizontalPodAutoscalerV2, now: Date): unknown[] {
  const ref = h.spec?.scaleTargetRef;
  return [nameOf(h as unknown as KubeObject), `${ref?.kind ?? ''}/${ref?.name ?? ''}`, formatHPAMetrics(h.spec?.metrics, h.status?.currentMetrics),
    h.spec?.minReplicas === undefined ? '<unset>' : String(h.spec.minReplicas), h.spec?.maxReplicas ?? 0, h.status?.currentReplicas ?? 0,
    age(h.metadata?.creationTimestamp, now)];
}

export const hpaV2Table: TableConvertor = { columns: hpaColumns, cells: (o, now) => hpaCells(typed<HorizontalPodAutoscalerV2>(o), now) };
/** v1 objects print like upstream: through the stored (v2) form. */
export const hpaV1Table: TableConvertor = {
  columns: hpaColumns, cells: (o, now) => hpaCells(hpaV1ToV2(typed<HorizontalPodAutoscalerV1>(o)), now),
};

// ---- autoscaling/v2 ------------------------------------------------------------------------

export const hpaV2Strategy: Strategy = {
  applyDefaults: (o) => defaultHPAv2(typed<HorizontalPodAutoscalerV2>(o)),
  prepareForCreate(o) { o.status = { desiredReplicas: 0 }; },
  prepareForUpdate: keepStatus,
  validate: (o) => validateHPAv2(typed<HorizontalPodAutoscalerV2>(o)),
  validateUpdate: (o, old) => validateHPAv2Update(typed<HorizontalPodAutoscalerV2>(o), typed<HorizontalPodAutoscalerV2>(old)),
  hasGeneration: false,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  table: hpaV2Table,
};

export const hpaV2StatusStrategy: Strategy = {
  ...hpaV2Strategy, applyDefaults: undefined, prepareForUpdate: keepSpec,
  validateUpdate: (o) => validateHPAStatus(typed<HorizontalPodAutoscalerV2>(o)),
};

// ---- autoscaling/v1 ------------------------------------------------------------------------

/** The round-trip annotations that carry status (the rest carry spec). */
const STATUS_ANNOTATIONS = [METRIC_STATUSES_ANNOTATION, CONDITIONS_ANNOTATION];
const SPEC_ANNOTATIONS = [METRIC_SPECS_ANNOTATION, BEHAVIOR_ANNOTATION];

/** Makes `keys` of obj's annotations what they are in `from` (absent when absent there). */
function copyAnnotations(obj: KubeObject, from: KubeObject | undefined, keys: readonly string[]): void {
  const ann: Record<string, string> = { ...(obj.metadata?.annotations ?? {}) };
  for (const k of keys) {
    const v = from?.metadata?.annotations?.[k];
    if (v === undefined) delete ann[k]; else ann[k] = v;
  }
  obj.metadata ??= {};
  if (Object.keys(ann).length) obj.metadata.annotations = ann; else delete obj.metadata.annotations;
}

const toV2 = (o: KubeObject) => hpaV1ToV2(typed<HorizontalPodAutoscalerV1>(o));

export const hpaV1Strategy: Strategy = {
  applyDefaults(o) {
    const h = typed<HorizontalPodAutoscalerV1>(o);
    if (h.spec) h.spec.minReplicas ??= 1;
  },
  prepareForCreate(o) {
    o.status = { currentReplicas: 0, desiredReplicas: 0 };
    copyAnnotations(o, undefined, STATUS_ANNOTATIONS);
  },
  prepareForUpdate(o, old) {
    keepStatus(o, old);
    copyAnnotations(o, old, STATUS_ANNOTATIONS);
  },
  // upstream validates the internal version: v1 objects are checked in their v2 form
  validate: (o) => validateHPAv2(toV2(o)),
  validateUpdate: (o, old) => validateHPAv2Update(toV2(o), toV2(old)),
  hasGeneration: false,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  table: hpaV1Table,
};

export const hpaV1StatusStrategy: Strategy = {
  ...hpaV1Strategy,
  applyDefaults: undefined,
  prepareForUpdate(o, old) {
    keepSpec(o, old);
    copyAnnotations(o, old, SPEC_ANNOTATIONS);
  },
  validateUpdate: (o) => validateHPAStatus(typed<HorizontalPodAutoscalerV1>(o)),
};

/** autoscaling/v1 ↔ the stored autoscaling/v2. */
export const hpaV1Conversion: Conversion = {
  toStorage: (o) => hpaV1ToV2(typed<HorizontalPodAutoscalerV1>(o)) as unknown as KubeObject,
  fromStorage: (o) => hpaV2ToV1(typed<HorizontalPodAutoscalerV2>(o)) as unknown as KubeObject,
};
