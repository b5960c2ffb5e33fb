/** Checks that stop training from producing a wrong model: resuming another run, and a collapsed network. */
import { CONFIG_FIELDS_ADDED_LATER, type RestorationConfig } from './config.js';
import type { TrainingCheckpoint } from './optimise.js';

/** Refuses a checkpoint of another config (naming each differing setting) or with more epochs than the target. */
export function checkResumable(config: RestorationConfig, checkpoint: TrainingCheckpoint): void {
  const saved = { ...CONFIG_FIELDS_ADDED_LATER, ...(checkpoint.config as unknown as Record<string, unknown>) } as Record<string, unknown>;
  const now = config as unknown as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(now), ...Object.keys(saved)])].filter((k) => k !== 'epochs');
  const differing = keys.filter((k) => JSON.stringify(now[k]) !== JSON.stringify(saved[k]));
  if (differing.length > 0) {
    const list = differing.map((k) => `${k}: checkpoint ${JSON.stringify(saved[k])}, now ${JSON.stringify(now[k])}`).join('; ');
    throw new Error(`resumeFrom: the checkpoint was made with different settings (${list}); resume with the checkpoint's settings`);
  }
  if (config.epochs < checkpoint.epoch) {
    throw new Error(`resumeFrom: the checkpoint has already trained ${checkpoint.epoch} epochs, more than the ${config.epochs} asked for; set epochs to ${checkpoint.epoch} or more`);
  }
}

/**
 * Refuses calibration scores of a collapsed or diverged network: any non-finite score, or the same score
 * for every normal image (a network that outputs a constant scores every image alike, e.g. after a far
 * too large learning rate).
 */
export function checkCalibrationScores(scores: ArrayLike<number>): void {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (!Number.isFinite(v)) throw new Error(`training failed: calibration image ${i} scores ${v}; the network diverged (lower the learning rate)`);
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  if (scores.length >= 2 && max - min <= 1e-6 * Math.max(1, Math.abs(max))) {
    throw new Error(`training failed: all ${scores.length} calibration images score ${max} (a collapsed model that cannot tell images apart); lower the learning rate or train longer`);
  }
}
