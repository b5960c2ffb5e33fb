/** Crash-safe folder replacement now lives in @thfr/detector/node (shared by every method); re-exported here. */
export { writeFolderAtomically, recoverInterruptedSave, FAULT_STEPS } from '@thfr/detector/node';
export type { WriteFolderOptions, Recovery, FaultStep } from '@thfr/detector/node';
