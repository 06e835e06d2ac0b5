/**
 * The blocks of names a native scan goes through (scan-native.ts): read from the folder, or taken
 * from its count (read-ahead.ts), and their entries' looks, made by the lookahead or here.
 */
import type { FileKind } from './categories.js';
import { type NativeAhead, type NativeFolder, type NativeScanner, READ_ENTRIES, READ_NAME_BYTES, batchThreads } from './native-scan.js';
import { type ListedBlock, sortBlock } from './read-ahead.js';
import type { Shard } from './scan.js';
import { systemError } from './scan-failure.js';

/** The files of a scan's folder, as the native scanner reads them: one block at a time. */
export interface Block {
  readonly names: Buffer;
  readonly types: Uint8Array;
  readonly ends: Int32Array;
  /** Per entry of the block: 1 if it is looked at (its name matched, and it may be a regular file). */
  readonly marks: Uint8Array;
  readonly shown: string[];
  readonly kinds: (FileKind | undefined)[];
  /** 8 numbers per entry (see native/scan.c), for a whole block looked at in one call. */
  readonly stats: Float64Array;
}

const BLOCK_ENTRIES = READ_ENTRIES;

export function newBlock(): Block {
  return {
    names: Buffer.allocUnsafe(READ_NAME_BYTES),
    types: new Uint8Array(BLOCK_ENTRIES),
    ends: new Int32Array(BLOCK_ENTRIES),
    marks: new Uint8Array(BLOCK_ENTRIES),
    shown: new Array<string>(BLOCK_ENTRIES).fill(''),
    kinds: new Array<FileKind | undefined>(BLOCK_ENTRIES).fill(undefined),
    stats: new Float64Array(8 * BLOCK_ENTRIES),
  };
}

/** Marks the entries of a block read that are looked at (see sortBlock). */
function sort(b: Block, count: number, classify: (name: string) => FileKind | undefined): void {
  sortBlock(b.names, b.types, b.ends, count, classify, b.marks, b.kinds, b.shown);
}

/**
 * Where a scan's blocks come from: the folder itself (native.read, a share of it), or the blocks
 * its count read and kept (read-ahead.ts). (A class, not closures made per scan: V8 threw the
 * scan's compiled code away when the second folder's closures came.)
 */
export class Blocks {
  /** How many of the listed blocks were taken. */
  private taken = 0;

  constructor(
    private readonly native: NativeScanner,
    private readonly folder: NativeFolder,
    private readonly dir: string,
    private readonly shard: Shard | undefined,
    private readonly classify: (name: string) => FileKind | undefined,
    private readonly listed: (ListedBlock | undefined)[] | undefined,
    readonly lookahead: NativeAhead | undefined,
  ) {}

  /** Waits for the looks lookStart started (at once if none are under way). */
  waitLooks(): void {
    this.native.lstatWait(this.folder);
  }

  /** The next block's entries into `into`, sorted (sort): how many, 0 at the end, or -errno. */
  read(into: Block): number {
    const count = this.copy(into);
    if (count > 0) sort(into, count, this.classify);
    return count;
  }

  /** The next block's entries into `into`, as read. */
  private copy(into: Block): number {
    const { listed, shard } = this;
    if (listed === undefined) return this.native.read(this.folder, into.names, into.types, into.ends, shard?.from ?? 0, shard?.to ?? 1, shard?.count ?? 1);
    const block = listed[this.taken];
    if (block === undefined) return 0;
    listed[this.taken++] = undefined; // (let go as soon as it is copied: ~5 MB at 150,000 names)
    block.names.copy(into.names);
    into.types.set(block.types);
    into.ends.set(block.ends);
    return block.count;
  }

  /** Starts the looks at a block's marked entries (lstatStart), in threads, while this one goes on. */
  lookStart(x: Block, n: number): void {
    const r = this.native.lstatStart(this.folder, x.names, x.ends, x.marks, n, x.stats, batchThreads());
    // (one block under way at a time, by construction: a refusal would be a bug, not a folder's state)
    if (r !== 0) throw systemError(r, 'lstatStart', this.dir);
  }

  /** The next listed block, its entries looked at (by the lookahead, or now), as the block scanned. */
  looked(): [Block, number] | undefined {
    const { listed, native, lookahead } = this;
    const block = listed?.[this.taken];
    if (block === undefined) return undefined;
    (listed as (ListedBlock | undefined)[])[this.taken++] = undefined;
    const n = block.count;
    const shown = block.names.toString('utf8', 0, block.ends[n - 1] as number).split('\0');
    const done = block.looked;
    if (done !== undefined && lookahead !== undefined && native.aheadWait(lookahead, done.index) === 0) {
      return [{ names: block.names, types: block.types, ends: block.ends, marks: done.marks, shown, kinds: done.kinds, stats: done.stats }, n];
    }
    // not looked at ahead (the lookahead could not take it, or it ended): here, now
    const x: Block = { names: block.names, types: block.types, ends: block.ends, marks: new Uint8Array(n), shown, kinds: new Array<FileKind | undefined>(n), stats: new Float64Array(8 * n) };
    sort(x, n, this.classify);
    const r = native.lstatMany(this.folder, x.names, x.ends, x.marks, n, x.stats, batchThreads());
    if (r !== 0) throw systemError(r, 'lstatMany', this.dir);
    return [x, n];
  }
}

