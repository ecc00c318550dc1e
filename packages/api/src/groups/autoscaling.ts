/**
 * autoscaling/v2 and autoscaling/v1 HorizontalPodAutoscalers: one stored version (v2), both
 * served; v2 is listed first, so discovery reports it as the preferred version.
 */
import { RW, row, sub, type ResourceDef } from '../resource-def.js';

const hpa = (version: 'v1' | 'v2'): ResourceDef => row({
  group: 'autoscaling', version, kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', namespaced: true,
  shortNames: ['hpa'], categories: ['all'], schemaPackage: 'autoscaling',
  subresources: [sub('status', { group: 'autoscaling', version, kind: 'HorizontalPodAutoscaler' }, RW)],
  ...(version === 'v2' ? {} : { storageVersion: 'v2' }),
});

export const AUTOSCALING: readonly ResourceDef[] = [hpa('v2'), hpa('v1')];
