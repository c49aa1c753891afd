// A synthetic knowledge corpus as a folder of text files, for `--corpus FOLDER`: made-up people, each
// with a birthplace, a birth year, a trade and a thing they like, stated in templated sentences. Each
// (person, fact) has three phrasings: two go to training documents and the third to validation, so
// validation asks for facts the model has read, in a phrasing it saw only for other people
// (closed-book recall, where the paper's sparse models gain most). File names are chosen so that the
// loader's split by hashed id (engine/data/split.ts) puts each document where it was written for.
// Usage: npx tsx scripts/factsCorpus.ts OUT_FOLDER PEOPLE [SEED]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../engine/data/rng';
import { isValidationId } from '../engine/data/split';

/** The share of documents the loader validates on (engine/train/dataset.ts: splitByHash's default). */
const VALIDATION_FRACTION = 0.1;
const SENTENCES_PER_DOC = 40;

const FIRST = 'Ada Alan Alma Amos Anna Arlo Axel Bea Ben Bess Boris Cara Cleo Cora Dan Dara Dean Dora Earl Edda Eli Ella Emil Enzo Eva Ezra Faye Finn Flora Gail Gene Gil Greta Gus Hal Hana Hugo Ida Igor Ines Ira Iris Ivan Jade Jan Jens Joan Jude June Kai Kara Kurt Lars Lea Leon Lila Lou Lua Mara Max Mila Milo Mina Nat Neil Nell Nico Nina Noel Nora Olga Omar Otto Pam Paz Pia Quin Rafe Rae Remy Rita Rosa Ruth Sal Sara Seth Sol Tara Ted Tess Theo Tom Uma Uri Vera Vic Wade Wren Yara Zoe'.split(' ');
const LAST = 'Abbot Acker Baird Banks Barlow Bishop Boyle Brandt Brooks Burke Carver Chase Cobb Crane Dalton Dixon Doyle Drake Dunn Eaton Ellis Ernst Farrow Fisher Flint Ford Foster Garner Gates Gibbs Grant Hale Harlow Hayes Hobbs Holt Hurst Irwin Ivers Jansen Jarvis Keane Keller Kemp Knox Lane Larkin Lowe Lyle Mace Marsh Mercer Moss Nash Noble Norris Oakes Olsen Orton Page Parks Pike Porter Quill Quinn Rand Reeve Rhodes Rowe Sayer Shaw Slade Stone Strand Thorne Todd Tully Upton Vance Voss Wade Walsh Webb Weller Wilde Yates Yoder Young Zane Ziegler Abrams Blake Cross Dane Frost Gray Hunt Lund Reed Snow'.split(' ');
const CITIES = 'Paris Lisbon Oslo Cairo Lima Quito Dakar Hanoi Kyoto Perth Dublin Madrid Vienna Prague Warsaw Athens Ankara Tehran Dhaka Manila Seoul Taipei Sydney Denver Boston Austin Toronto Havana Bogota Santiago Nairobi Accra Tunis Rabat Riga Tallinn Vilnius Zagreb Sofia Berlin'.split(' ');
const TRADES = 'baker potter tailor farmer fisher miner smith weaver mason carpenter glazier cooper tanner brewer butcher barber sailor pilot nurse doctor lawyer teacher painter sculptor poet singer dancer jeweler printer plumber chemist banker grocer gardener hunter shepherd builder driver clerk judge'.split(' ');
const THINGS = 'apples tea chess jazz kites maps owls rain roses sand snow soup tigers trains tulips violins whales wool bread cheese coffee dogs cats ducks figs honey ink jade lemons lilies maple nuts olives pears plums rice salt silk stars sugar'.split(' ');
const YEARS = Array.from({ length: 100 }, (_, i) => String(1900 + i));

/** Three phrasings of each fact; `{n}` is the person, `{v}` the value. */
const FACTS: { values: string[]; phrasings: [string, string, string] }[] = [
  { values: CITIES, phrasings: ['{n} was born in the city of {v}.', '{n} comes from {v}.', 'The birthplace of {n} is {v}.'] },
  { values: YEARS, phrasings: ['{n} was born in the year {v}.', 'The birth year of {n} is {v}.', 'In {v}, {n} was born.'] },
  { values: TRADES, phrasings: ['{n} works as a {v}.', '{n} is a {v} by trade.', 'The trade of {n} is {v}.'] },
  { values: THINGS, phrasings: ['{n} likes {v}.', '{n} is fond of {v}.', 'What {n} likes most is {v}.'] },
];

function main(): void {
  const [out, peopleText, seedText = '0'] = process.argv.slice(2);
  const people = Number(peopleText);
  const seed = Number(seedText);
  if (!out || !Number.isInteger(people) || people < 1 || people > FIRST.length * LAST.length || !Number.isInteger(seed)) {
    console.error(`usage: npx tsx scripts/factsCorpus.ts OUT_FOLDER PEOPLE [SEED]   (PEOPLE: 1 to ${FIRST.length * LAST.length})`);
    process.exit(2);
  }
  const rng = new Rng(seed);
  const names = shuffle(
    FIRST.flatMap((f) => LAST.map((l) => `${f} ${l}`)),
    rng,
  ).slice(0, people);
  const train: string[] = [];
  const validation: string[] = [];
  for (const n of names) {
    for (const fact of FACTS) {
      const v = fact.values[rng.nextInt(fact.values.length)];
      const held = rng.nextInt(3);
      fact.phrasings.forEach((p, i) => (i === held ? validation : train).push(p.replace('{n}', n).replace('{v}', v)));
    }
  }
  mkdirSync(out, { recursive: true });
  const trainDocs = writeDocs(out, 'train', shuffle(train, rng), false);
  const validationDocs = writeDocs(out, 'val', shuffle(validation, rng), true);
  console.log(`${out}: ${people} people, ${train.length} training sentences in ${trainDocs} documents, ${validation.length} validation sentences in ${validationDocs}`);
}

/** Writes the sentences in documents of SENTENCES_PER_DOC, each under a name the loader splits as asked. */
function writeDocs(out: string, prefix: string, sentences: string[], validation: boolean): number {
  let docs = 0;
  for (let i = 0; i < sentences.length; i += SENTENCES_PER_DOC, docs++) {
    let name = `${prefix}-${String(docs).padStart(4, '0')}.txt`;
    for (let k = 0; isValidationId(name, VALIDATION_FRACTION) !== validation; k++) name = `${prefix}-${String(docs).padStart(4, '0')}-${k}.txt`;
    writeFileSync(join(out, name), sentences.slice(i, i + SENTENCES_PER_DOC).join(' ') + '\n');
  }
  return docs;
}

/** Fisher–Yates with the corpus's seeded generator. */
function shuffle<T>(items: T[], rng: Rng): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

main();
