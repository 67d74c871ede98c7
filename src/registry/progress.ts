// docker's pull progress (issue #16): one line per layer, "ID: Status", with a bar and bytes
// while it downloads. On a terminal the block is redrawn in place (cursor up, line erase, as
// docker's jsonmessage does); elsewhere each status change is one plain line. Pure but for the
// writer it is given.
import { humanSize } from '../runtime/format.js';

export interface LayerProgress {
  status: string;
  current?: number;
  total?: number;
}

/** docker's bar: `[=====>      ]` of 50 cells, then `1.2MB/5MB`. Pure. */
export function progressBar(current: number, total: number, width = 50): string {
  if (!(total > 0)) return humanSize(current);
  const filled = Math.min(width, Math.floor((current / total) * width));
  const bar = filled >= width ? '='.repeat(width) : `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}`;
  return `[${bar}]  ${humanSize(current)}/${humanSize(total)}`;
}

/** The block's lines, in the order the layers were first seen. Pure. */
export function renderBlock(order: readonly string[], state: ReadonlyMap<string, LayerProgress>, columns = 80): string[] {
  return order.map((id) => {
    const p = state.get(id)!;
    const bar = p.current !== undefined && p.total !== undefined && /^(Downloading|Extracting)$/.test(p.status) ? ` ${progressBar(p.current, p.total, columns < 100 ? 30 : 50)}` : '';
    return `${id}: ${p.status}${bar}`.slice(0, Math.max(20, columns - 1));
  });
}

/** A progress writer: `update(id, p)` for a layer, `line(text)` for the lines around the block. */
export class Progress {
  private readonly order: string[] = [];
  private readonly state = new Map<string, LayerProgress>();
  private drawn = 0;
  private lastDraw = 0;

  constructor(private readonly write: (s: string) => void, private readonly tty: boolean, private readonly columns = 80) {}

  update(id: string, p: LayerProgress): void {
    const before = this.state.get(id);
    if (!before) this.order.push(id);
    this.state.set(id, p);
    if (!this.tty) {
      // Plain: a line per status change, never one per chunk.
      if (before?.status !== p.status) this.write(`${id}: ${p.status}\n`);
      return;
    }
    // Redrawn at most every 100 ms while bytes flow; at once when a status changes.
    const now = Date.now();
    if (before?.status === p.status && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.draw();
  }

  private draw(): void {
    const lines = renderBlock(this.order, this.state, this.columns);
    let out = this.drawn ? `\x1b[${this.drawn}A` : '';
    for (const l of lines) out += `\x1b[2K\r${l}\n`;
    this.drawn = lines.length;
    this.write(out);
  }

  /** A line below the block (Digest:, Status:); the block is not redrawn after it. */
  line(text: string): void {
    if (this.tty && this.drawn) this.draw();
    this.drawn = 0;
    this.write(`${text}\n`);
  }
}
