// The export job kind: runs the export walk (exporter.ts) with its parts in the store's blobs and its
// checkpoints on the job's Task, then schedules the clean-up of its files for when they expire.
import type { TaskOutput } from '@medplum/fhirtypes';
import type { JobContext, JobHandler } from '../jobs/handler';
import type { JobQueue } from '../jobs/queue';
import type { RepositoryServices } from '../repository';
import { EXPORT_CLEANUP_KIND, EXPORT_KIND, exportOutputs, readExportJob } from './export-job';
import { DEFAULT_EXPORT_SETTINGS, runExport, type ExportCheckpoint, type ExportSettings } from './exporter';
import { ExportFileStore } from './file-store';

/** The output naming when the files expire (the manifest's Expires). */
export const EXPIRES_OUTPUT = 'expires';

export class ExportHandler implements JobHandler {
  readonly kind = EXPORT_KIND;
  private readonly files: ExportFileStore;

  constructor(
    private readonly services: RepositoryServices,
    private readonly jobs: JobQueue,
    private readonly settings: ExportSettings = DEFAULT_EXPORT_SETTINGS,
  ) {
    this.files = new ExportFileStore(services.store);
  }

  async run(context: JobContext): Promise<TaskOutput[]> {
    const { taskId } = context;
    const done = await runExport(this.services, {
      job: readExportJob(context.task),
      sink: { write: (part, _type, bytes) => this.files.write(taskId, part, bytes) },
      settings: this.settings,
      checkpoint: context.checkpoint as ExportCheckpoint | undefined,
      save: (state) => context.save(state, exportOutputs(state.files, state.exported)),
      assertActive: () => context.assertActive(),
    });
    const expires = Date.now() + this.settings.retentionMs;
    await this.jobs.enqueue({
      kind: EXPORT_CLEANUP_KIND,
      label: 'Remove the files of an export',
      input: [{ type: { text: 'export' }, valueString: taskId }],
      notBefore: expires,
    });
    return [
      ...exportOutputs(done.files, done.exported),
      { type: { text: EXPIRES_OUTPUT }, valueDateTime: new Date(expires).toISOString() },
    ];
  }
}
