import { Gauge, type Registry } from 'prom-client';
import type { Project } from '../config/types.js';
import { SELF_METRICS } from './names.js';

/**
 * Registers dis_exporter_project_info{project_id,region} on `registry`, one series with value 1 per configured
 * project (docs/metrics.md ("Exporter self-metrics")), and returns the function that replaces the set (start, reload).
 */
export function registerProjectInfo(
  registry: Registry,
): (projects: readonly Pick<Project, 'projectId' | 'region'>[]) => void {
  const gauge = new Gauge({ ...SELF_METRICS.projectInfo, labelNames: ['project_id', 'region'], registers: [registry] });
  return (projects) => {
    gauge.reset();
    for (const { projectId, region } of projects) gauge.set({ project_id: projectId, region }, 1);
  };
}
