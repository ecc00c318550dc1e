/**
 * Progress of a Docker image pull, from the JSON messages of its progress stream (one per
 * layer update: `{ id, status, progressDetail: { current, total } }`), so that the runtime can
 * log a long pull as it goes (CRI PullImage is unary: the kubelet only sees its end, and
 * upstream's events are just Pulling and Pulled).
 *
 * A layer counts as done on "Download complete", "Pull complete" or "Already exists"; bytes
 * are those of the "Downloading" updates (extraction is not counted).
 */

export interface PullMessage {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
}

export interface PullProgressSummary {
  layers: number;
  layersDone: number;
  downloadedBytes: number;
  totalBytes: number;
}

const DONE = /^(Download complete|Pull complete|Already exists)$/;

export class PullProgress {
  private readonly layers = new Map<string, { current: number; total: number; done: boolean }>();

  /** Takes one message of the stream; messages without a layer id (the pull's own lines) are ignored. */
  add(m: PullMessage): void {
    if (!m.id || !m.status || /^Pulling from /.test(m.status)) return;
    const l = this.layers.get(m.id) ?? { current: 0, total: 0, done: false };
    if (m.status === 'Downloading' && m.progressDetail) {
      l.current = m.progressDetail.current ?? l.current;
      l.total = m.progressDetail.total ?? l.total;
    }
    if (DONE.test(m.status)) {
      l.done = true;
      if (l.total > 0) l.current = l.total;
    }
    this.layers.set(m.id, l);
  }

  summary(): PullProgressSummary {
    let layersDone = 0;
    let downloadedBytes = 0;
    let totalBytes = 0;
    for (const l of this.layers.values()) {
      if (l.done) layersDone++;
      downloadedBytes += l.current;
      totalBytes += l.total;
    }
    return { layers: this.layers.size, layersDone, downloadedBytes, totalBytes };
  }
}
