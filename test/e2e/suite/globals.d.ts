// The few mocha declarations the suite uses: mocha (tdd UI) sets these globals while it loads each
// test file. Declared here rather than taken from @types/mocha so that the repository's typecheck
// (which includes test/) passes without test/e2e's own node_modules.
interface MochaContext {
  timeout(ms: number): void;
  skip(): never;
}
type MochaFn = (this: MochaContext) => unknown;
declare function suite(title: string, fn: (this: MochaContext) => void): void;
declare function test(title: string, fn: MochaFn): void;
declare function suiteSetup(fn: MochaFn): void;
declare function suiteTeardown(fn: MochaFn): void;
declare function setup(fn: MochaFn): void;
declare function teardown(fn: MochaFn): void;

declare module 'mocha' {
  interface MochaOptions {
    ui?: 'tdd' | 'bdd';
    color?: boolean;
    timeout?: number;
    reporter?: string;
    grep?: string | RegExp;
  }
  export interface Runner {
    /** The tests the grep selects. */
    total: number;
    on(event: 'test end' | 'pass' | 'fail', listener: (...args: unknown[]) => void): Runner;
  }
  class Mocha {
    constructor(options?: MochaOptions);
    addFile(file: string): Mocha;
    run(done: (failures: number) => void): Runner;
  }
  export default Mocha;
}
