// Lists an HDF5 object's attributes and decodes only the ones asked for. jsfive decodes all attributes
// at once and trusts their sizes: a corrupt element count makes it build billions of strings (a hang,
// then out of memory), and it warns on the console about types it cannot decode. So the attribute
// message header (HDF5 spec IV.A.2.m) is read here and checked before jsfive decodes the value.

import type { Group } from 'jsfive';
import { FileBytes, problem, readDataspace } from './h5-data.js';

const ATTRIBUTE_MESSAGE = 12;
/** Datatype classes (HDF5 spec IV.A.2.d) jsfive decodes; others hold nothing a weights file needs. */
const DECODABLE = new Set([0, 1, 3, 9]); // fixed-point, floating-point, string, variable-length
export const STRING_CLASSES = new Set([3, 9]);

export interface Attribute {
  name: string;
  /** HDF5 datatype class of the value. */
  typeClass: number;
  /** The value as jsfive decodes it: a string, a number or an array of them. Problems omit the name. */
  read(): unknown;
}

const padded = (size: number, multiple: number): number => Math.ceil(size / multiple) * multiple;

function parse(file: FileBytes, object: Group, at: number, end: number): Attribute {
  const version = file.view.getUint8(at);
  if (version < 1 || version > 3) problem(`an attribute message of ${object.name} has unknown version ${version}`);
  // Version 1 pads each part to 8 bytes; versions 2 and 3 do not, and 3 adds an encoding byte.
  const pad = version === 1 ? 8 : 1;
  const nameSize = file.view.getUint16(at + 2, true);
  const typeSize = file.view.getUint16(at + 4, true);
  const spaceSize = file.view.getUint16(at + 6, true);
  const nameAt = at + (version === 3 ? 9 : 8);
  const typeAt = nameAt + padded(nameSize, pad);
  const spaceAt = typeAt + padded(typeSize, pad);
  const dataAt = spaceAt + padded(spaceSize, pad);
  if (dataAt > end) problem(`an attribute message of ${object.name} is corrupt`);
  const name = new TextDecoder().decode(file.u8.subarray(nameAt, nameAt + nameSize)).replace(/\0+$/, '');
  const typeClass = file.view.getUint8(typeAt) & 0x0f;
  return {
    name,
    typeClass,
    read() {
      if (!DECODABLE.has(typeClass)) problem(`has HDF5 type class ${typeClass}, which this reader cannot decode`);
      const shape = readDataspace(file, spaceAt, spaceSize) ?? [0];
      const count = shape.reduce((a, b) => a * b, 1);
      const itemSize = file.view.getUint32(typeAt + 4, true);
      if (dataAt + count * itemSize > end) {
        problem(`claims ${count} values, more than its message holds`);
      }
      return object._dataobjects.unpack_attribute(at)[1];
    },
  };
}

/** The attributes of `object` in the file's order, not yet decoded. */
export function listAttributes(file: FileBytes, object: Group): Attribute[] {
  return object._dataobjects.find_msg_type(ATTRIBUTE_MESSAGE).map((message) => {
    const at = message.get('offset_to_message')!;
    return parse(file, object, at, at + message.get('size')!);
  });
}
