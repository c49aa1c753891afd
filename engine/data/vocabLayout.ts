// Fixed id layout shared by the trainer, the tokenizer and tokenizer.json:
//   0 <pad>, 1 </s>, 2 <unk>          (T5's ids; <pad> doubles as decoder start)
//   3..258 <0x00>..<0xFF>             (byte fallback, as in SentencePiece/Llama)
//   259..                             (learned characters, then merges)
//   top numSentinels ids              (<extra_id_0> = vocabSize-1, counting down, as in T5)

export const PAD_TOKEN = '<pad>';
export const EOS_TOKEN = '</s>';
export const UNK_TOKEN = '<unk>';
export const PAD_ID = 0;
export const EOS_ID = 1;
export const UNK_ID = 2;
export const BYTE_BASE = 3;
export const FIRST_LEARNED_ID = BYTE_BASE + 256;
export const DEFAULT_NUM_SENTINELS = 100;

export function byteToken(byte: number): string {
  return `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`;
}

export function sentinelToken(i: number): string {
  return `<extra_id_${i}>`;
}

/** <pad>, </s>, <unk>, then <extra_id_0>, <extra_id_1>, ...: HF's "added" special tokens. */
export function specialTokenIds(vocabSize: number, numSentinels: number): number[] {
  return [PAD_ID, EOS_ID, UNK_ID, ...Array.from({ length: numSentinels }, (_, i) => vocabSize - 1 - i)];
}
