// The end-to-end test's model: a tiny synthetic MVTec-AD-like category, trained by the thfr CLI
// (in-process, on wasm) and saved with its backbone, exactly the folder `thfr train` writes.
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { writeSyntheticCategory } from '@thfr/data/node';
import { runCli } from '@thfr/cli';

export interface TrainedFixture {
  categoryDir: string;
  modelDir: string;
  /** One anomalous test image of the category (a PNG). */
  anomalousImage: string;
  /** One normal test image. */
  normalImage: string;
}

/**
 * Trains with the `fast` preset (128 px, batch 8) unless `config` says otherwise: the recipe of the example's
 * README (`thfr demo` uses it).
 */
export async function trainFixtureModel(workDir: string, options: { trainCount: number; epochs: number; config?: 'fast' | 'default' }): Promise<TrainedFixture> {
  const categoryDir = await writeSyntheticCategory(join(workDir, 'data'), { kind: 'ad', trainCount: options.trainCount, testCount: 3, size: 256, seed: 7 });
  const modelDir = join(workDir, 'model');
  const code = await runCli(['train', '--data', categoryDir, '--out', modelDir, '--epochs', String(options.epochs), '--config', options.config ?? 'fast', '--backend', 'wasm', '--quiet']);
  if (code !== 0) throw new Error(`thfr train exited with ${code}`);
  const testDir = join(categoryDir, 'test');
  const defect = readdirSync(testDir).find((d) => d !== 'good');
  if (!defect) throw new Error(`${testDir}: no anomalous test folder`);
  return { categoryDir, modelDir, anomalousImage: join(testDir, defect, '000.png'), normalImage: join(testDir, 'good', '000.png') };
}
