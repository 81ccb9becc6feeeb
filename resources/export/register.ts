// Registers the export job kinds (the export itself and the clean-up of its files) with the job runner, and
// keeps the settings they were registered with for the kick-off (the per-client limit of exports in progress).
import type { JobQueue } from '../jobs/queue';
import type { RepositoryServices } from '../repository';
import { ExportCleanupHandler } from './cleanup-handler';
import { ExportHandler } from './export-handler';
import { DEFAULT_EXPORT_SETTINGS, type ExportSettings } from './exporter';

const registered = new WeakMap<RepositoryServices, ExportSettings>();

export function registerExportJobs(
  services: RepositoryServices,
  jobs: JobQueue,
  settings: Partial<ExportSettings> = {},
): void {
  const merged = { ...DEFAULT_EXPORT_SETTINGS, ...settings };
  registered.set(services, merged);
  jobs.register(new ExportHandler(services, jobs, merged));
  jobs.register(new ExportCleanupHandler(services));
}

/** The settings the export jobs of these services were registered with (the defaults before that). */
export function exportSettingsOf(services: RepositoryServices): ExportSettings {
  return registered.get(services) ?? DEFAULT_EXPORT_SETTINGS;
}
