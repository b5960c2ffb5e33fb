// Runs before every test file: marks tfjs as under test, which silences its "install tfjs-node" banner (printed
// once per file whenever the cpu backend is used: 87 copies in one CI log) without hiding real warnings of ours.
import { env } from '@tensorflow/tfjs-core';

env().set('IS_TEST', true);
