// Registers the export job kinds (the export itself and the clean-up of its files) with the job runner.
import type { JobQueue } from '../jobs/queue';
import type { RepositoryServices } from '../repository';
import { ExportCleanupHandler } from './cleanup-handler';
import { ExportHandler } from './export-handler';
import { DEFAULT_EXPORT_SETTINGS, type ExportSettings } from './exporter';

export function registerExportJobs(
  services: RepositoryServices,
  jobs: JobQueue,
  settings: Partial<ExportSettings> = {},
): void {
  jobs.register(new ExportHandler(services, jobs, { ...DEFAULT_EXPORT_SETTINGS, ...settings }));
  jobs.register(new ExportCleanupHandler(services));
}
