import fs from 'node:fs';

/**
 * This process's threads of that name (/proc/self/task/<tid>/comm: the native scanner names its
 * own, see native/scan.c), so that threads of Node's own, coming and going, are not counted.
 */
export function threadsNamed(name: string): number {
  let count = 0;
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      if (fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === name) count++;
    } catch {
      // ended since it was listed
    }
  }
  return count;
}
