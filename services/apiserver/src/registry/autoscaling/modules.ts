/** autoscaling resource modules: HorizontalPodAutoscalers in v2 (stored) and v1 (converted). */
import type { ResourceModule } from '../module.js';
import { hpaV1Conversion, hpaV1StatusStrategy, hpaV1Strategy, hpaV2StatusStrategy, hpaV2Strategy } from './hpa.js';

export const AUTOSCALING_MODULES: ResourceModule[] = [
  { group: 'autoscaling', kind: 'HorizontalPodAutoscaler', version: 'v2', strategy: hpaV2Strategy, statusStrategy: hpaV2StatusStrategy },
  {
    group: 'autoscaling', kind: 'HorizontalPodAutoscaler', version: 'v1', strategy: hpaV1Strategy, statusStrategy: hpaV1StatusStrategy,
    conversion: hpaV1Conversion,
  },
];
