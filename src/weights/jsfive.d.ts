// jsfive ships no types. These cover the public classes and the few internals the weights reader
// uses (the parsed object header), as found in jsfive 0.4.2's dist/esm/index.mjs.

declare module 'jsfive' {
  /** One header message: `type`, `size`, `flags`, `offset_to_message` (absolute file offset). */
  export type HeaderMessage = Map<string, number>;

  /** A parsed HDF5 object header (jsfive's internal `DataObjects`). */
  export interface DataObjects {
    /** File offset of the object header. */
    readonly offset: number;
    readonly msgs: HeaderMessage[];
    /** numpy-like type string (`<f4`, `>i8`, `S10`) or an array for VLEN/reference types. */
    readonly dtype: string | unknown[];
    /** Chunk shape of a chunked dataset, else null. */
    readonly chunks: number[] | null;
    readonly filter_pipeline: Map<string, unknown>[] | null;
    find_msg_type(type: number): HeaderMessage[];
    /** Decodes one attribute message: [name, value]. */
    unpack_attribute(offset: number): [string, unknown];
  }

  export class Group {
    readonly name: string;
    /** Link names in the file's order (a copy). */
    readonly keys: string[];
    readonly _dataobjects: DataObjects;
    /** Resolves a relative path; null for a dangling soft link. Throws a string when a link is missing. */
    get(path: string): Group | Dataset | null;
  }

  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename?: string);
  }

  export class Dataset {
    readonly name: string;
    readonly shape: number[];
    /** All values, row-major; slow (one JS number per element). */
    readonly value: unknown;
    readonly _dataobjects: DataObjects;
  }
}
