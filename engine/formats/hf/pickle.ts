// A restricted unpickler for PyTorch state dicts. A pickle is a program for a stack machine whose
// GLOBAL and REDUCE opcodes call any Python function, so loading an untrusted one can run code.
// This one interprets only the opcodes torch.save emits for a state dict, and of globals accepts
// only an OrderedDict, the tensor rebuild functions and the float storage types: anything else is
// refused by name, before anything is built from it.

/** A tensor's storage, named by its persistent id: ('storage', type, key, location, numel). */
export interface StorageRef {
  kind: 'storage';
  dtype: 'F32' | 'F16' | 'BF16';
  key: string;
  numel: number;
}

/** torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...). */
export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  /** In elements of the storage. */
  offset: number;
  shape: number[];
  stride: number[];
}

const STORAGE_TYPES: Record<string, StorageRef['dtype']> = {
  'torch.FloatStorage': 'F32',
  'torch.HalfStorage': 'F16',
  'torch.BFloat16Storage': 'BF16',
};
const CALLABLES = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter']);

export class PickleError extends Error {
  constructor(why: string) {
    super(`pickle: ${why}`);
    this.name = 'PickleError';
  }
}

interface Global {
  kind: 'global';
  name: string;
}
type Value = null | boolean | number | string | Value[] | Map<string, Value> | Global | StorageRef | TensorRef | { kind: 'tuple'; items: Value[] };

const MARK = Symbol('mark');

/** The state dict in `data`: tensor name -> where its values are. */
export function readStateDict(data: Uint8Array): Map<string, TensorRef> {
  const root = unpickle(data);
  if (!(root instanceof Map)) throw new PickleError('the pickle is not a dict (not a state dict)');
  const out = new Map<string, TensorRef>();
  for (const [name, v] of root) {
    if (!isTensor(v)) throw new PickleError(`entry ${name} is not a tensor`);
    out.set(name, v);
  }
  return out;
}

function isTensor(v: Value): v is TensorRef {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && v.kind === 'tensor';
}

function unpickle(data: Uint8Array): Value {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const text = new TextDecoder('utf-8', { fatal: true });
  const stack: (Value | typeof MARK)[] = [];
  const memo = new Map<number, Value>();
  let pos = 0;

  const need = (n: number) => {
    if (pos + n > data.length) throw new PickleError(`truncated at byte ${pos}`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => data[need(1)];
  const u32 = () => view.getUint32(need(4), true);
  const str = (n: number) => text.decode(data.subarray(need(n), pos));
  const line = () => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) throw new PickleError(`truncated at byte ${pos}`);
    const s = text.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): Value => {
    const v = stack.pop();
    if (v === undefined || v === MARK) throw new PickleError(`stack underflow at byte ${pos}`);
    return v;
  };
  const popMark = (): Value[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) throw new PickleError(`no mark at byte ${pos}`);
    const items = stack.splice(at) as Value[];
    items.shift();
    return items;
  };
  const top = (): Value => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw new PickleError(`stack underflow at byte ${pos}`);
    return v;
  };
  const setItems = (dict: Value, items: Value[]) => {
    if (!(dict instanceof Map)) throw new PickleError(`SETITEM on a non-dict at byte ${pos}`);
    for (let i = 0; i + 1 < items.length; i += 2) {
      if (typeof items[i] !== 'string') throw new PickleError(`a dict key that is not a string at byte ${pos}`);
      dict.set(items[i] as string, items[i + 1]);
    }
  };
  const global = (module: string, name: string): Value => {
    const full = `${module}.${name}`;
    if (full in STORAGE_TYPES || CALLABLES.has(full)) return { kind: 'global', name: full };
    throw new PickleError(`refusing global ${full}: a state dict needs only tensors, and a pickle's globals can run code`);
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        need(8);
        break;
      case 0x63: // GLOBAL
        stack.push(global(line(), line()));
        break;
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw new PickleError(`bad STACK_GLOBAL at byte ${at}`);
        stack.push(global(module, name));
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const key = op === 0x68 ? u8() : u32();
        if (!memo.has(key)) throw new PickleError(`memo ${key} unset at byte ${at}`);
        stack.push(memo.get(key) as Value);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push({ kind: 'tuple', items: [] });
        break;
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x74: // TUPLE
        stack.push({ kind: 'tuple', items: popMark() });
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: { // TUPLE3
        const n = op - 0x84;
        const items = Array.from({ length: n }, pop).reverse();
        stack.push({ kind: 'tuple', items });
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(str(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(str(u8()));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(view.getUint16(need(2), true));
        break;
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4), true));
        break;
      case 0x8a: { // LONG1
        const n = u8();
        if (n > 6) throw new PickleError(`integer of ${n} bytes at byte ${at}`);
        const start = need(n);
        let v = 0;
        for (let i = n - 1; i >= 0; i--) v = v * 256 + data[start + i];
        stack.push(n && data[start + n - 1] & 0x80 ? v - 2 ** (8 * n) : v);
        break;
      }
      case 0x47: // BINFLOAT
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) throw new PickleError(`APPEND on a non-list at byte ${at}`);
        list.push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) throw new PickleError(`APPENDS on a non-list at byte ${at}`);
        list.push(...items);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(storageRef(pop()));
        break;
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x62: { // BUILD
        // Only a state dict's `_metadata` attribute (module versions) reaches here: nothing to keep.
        pop();
        if (!(top() instanceof Map)) throw new PickleError(`BUILD on a non-dict at byte ${at}`);
        break;
      }
      case 0x2e: // STOP
        return pop();
      default:
        throw new PickleError(`unsupported opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`);
    }
  }
}

function tupleItems(v: Value, what: string): Value[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Map || v.kind !== 'tuple') throw new PickleError(`${what}: expected a tuple`);
  return v.items;
}

function ints(v: Value, what: string): number[] {
  const items = tupleItems(v, what);
  if (!items.every((x) => Number.isInteger(x) && (x as number) >= 0)) throw new PickleError(`${what}: expected non-negative integers`);
  return items as number[];
}

function storageRef(pid: Value): StorageRef {
  const [tag, type, key, , count] = tupleItems(pid, 'persistent id');
  const name = (type as Global | null)?.kind === 'global' ? (type as Global).name : '';
  if (tag !== 'storage' || !(name in STORAGE_TYPES) || typeof key !== 'string' || !Number.isInteger(count)) {
    throw new PickleError(`unsupported persistent id (storage type ${name || '?'})`);
  }
  return { kind: 'storage', dtype: STORAGE_TYPES[name], key, numel: count as number };
}

function call(fn: Value, args: Value): Value {
  const name = (fn as Global | null)?.kind === 'global' ? (fn as Global).name : '';
  const a = tupleItems(args, `arguments of ${name || 'a call'}`);
  switch (name) {
    case 'collections.OrderedDict':
      if (a.length) throw new PickleError('OrderedDict with arguments');
      return new Map();
    case 'torch._utils._rebuild_tensor_v2': {
      const [storage, offset, size, stride] = a;
      if ((storage as StorageRef | null)?.kind !== 'storage' || !Number.isInteger(offset)) throw new PickleError('bad _rebuild_tensor_v2 arguments');
      return { kind: 'tensor', storage: storage as StorageRef, offset: offset as number, shape: ints(size, 'tensor size'), stride: ints(stride, 'tensor stride') };
    }
    case 'torch._utils._rebuild_parameter':
      return a[0]; // (data, requires_grad, backward_hooks): the data is all a state dict needs
    default:
      throw new PickleError(`${name || 'a non-function'} cannot be called`);
  }
}
