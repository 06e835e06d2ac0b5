import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { categoryById, nameClassifier } from '../../src/categories.js';
import { scanFolder } from '../../src/scan.js';
import { makeTree, tempDir } from '../helpers/tree.js';

const names = (dir: string, id: 'incidents' | 'videos'): string[] =>
  [...scanFolder(dir, nameClassifier(categoryById(id)))].map((e) => ('failure' in e ? `!${e.failure.code}` : e.name)).sort();

describe('scanFolder', () => {
  const root = tempDir();
  const outside = tempDir();
  const servers: net.Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  it('yields only matching regular files directly inside the folder', async () => {
    makeTree(outside, { 'secret.txt': { ageDays: 400 }, 'offline_incident_x.txt': { ageDays: 400 } });
    makeTree(root, {
      'offline_incidents/offline_incident_1.txt': { ageDays: 40 },
      'offline_incidents/offline_incident_.txt': { ageDays: 40 },
      'offline_incidents/offline_incident_2.TXT': { ageDays: 40 },
      'offline_incidents/Offline_incident_3.txt': { ageDays: 40 },
      'offline_incidents/.offline_incident_4.txt': { ageDays: 40 },
      'offline_incidents/offline_incident_5.txt.bak': { ageDays: 40 },
      'offline_incidents/incident_6.txt': { ageDays: 40 },
      'offline_incidents/offline_incident_dir.txt': { type: 'dir', ageDays: 40 },
      'offline_incidents/offline_incident_dir.txt/offline_incident_nested.txt': { ageDays: 40 },
      'offline_incidents/sub/offline_incident_7.txt': { ageDays: 40 },
      'offline_incidents/offline_incident_link.txt': { type: 'symlink', target: path.join(outside, 'secret.txt'), ageDays: 40 },
      'offline_incidents/offline_incident_dangling.txt': { type: 'symlink', target: '/nonexistent/x', ageDays: 40 },
      'offline_incidents/offline_incident_fifo.txt': { type: 'fifo', ageDays: 40 },
      'mock_sparse_ai_cloud/a.mp4': { ageDays: 40 },
      'mock_sparse_ai_cloud/a.json': { ageDays: 40 },
      'mock_sparse_ai_cloud/OLD.MP4': { ageDays: 40 },
      'mock_sparse_ai_cloud/b.JSON': { ageDays: 40 },
      'mock_sparse_ai_cloud/.hidden.mp4': { ageDays: 40 },
      'mock_sparse_ai_cloud/c.mp4.part': { ageDays: 40 },
      'mock_sparse_ai_cloud/notes.txt': { ageDays: 40 },
      'mock_sparse_ai_cloud/d.mp4': { type: 'symlink', target: path.join(outside, 'secret.txt') },
      'mock_sparse_ai_cloud/nested/e.mp4': { ageDays: 40 },
    });
    const socketPath = path.join(root, 'offline_incidents', 'offline_incident_sock.txt');
    const server = net.createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));

    expect(names(path.join(root, 'offline_incidents'), 'incidents')).toEqual(['offline_incident_.txt', 'offline_incident_1.txt']);
    expect(names(path.join(root, 'mock_sparse_ai_cloud'), 'videos')).toEqual(['a.json', 'a.mp4']);
  });

  it('reports size, kind, mtime and identity from lstat', () => {
    const dir = path.join(tempDir(), 'mock_sparse_ai_cloud');
    makeTree(path.dirname(dir), { 'mock_sparse_ai_cloud/v.mp4': { size: 12345, ageDays: 2 } });
    const [entry] = [...scanFolder(dir, nameClassifier(categoryById('videos')))];
    const stat = fs.lstatSync(path.join(dir, 'v.mp4'));
    expect(entry).toEqual({
      name: 'v.mp4',
      path: path.join(dir, 'v.mp4'),
      at: path.join(dir, 'v.mp4'),
      kind: 'video',
      size: 12345,
      blocks: stat.blocks,
      nlink: 1,
      isFile: true,
      dev: stat.dev,
      ino: stat.ino,
      mtimeMs: stat.mtimeMs,
      ctimeMs: stat.ctimeMs,
    });
  });

  it('follows a category folder that is itself a link, once', () => {
    const data = tempDir();
    makeTree(data, { 'offline_incident_9.txt': { ageDays: 40 }, 'inner/offline_incident_10.txt': { ageDays: 40 } });
    const base = tempDir();
    fs.symlinkSync(data, path.join(base, 'offline_incidents'));
    expect(names(path.join(base, 'offline_incidents'), 'incidents')).toEqual(['offline_incident_9.txt']);
  });

  it('a missing folder yields nothing; a file where the folder should be is a failure', () => {
    const base = tempDir();
    expect(names(path.join(base, 'offline_incidents'), 'incidents')).toEqual([]);
    fs.writeFileSync(path.join(base, 'offline_incidents'), 'not a folder');
    expect(names(path.join(base, 'offline_incidents'), 'incidents')).toEqual(['!ENOTDIR']);
  });

  it('streams a large folder without reading it whole', () => {
    const dir = path.join(tempDir(), 'offline_incidents');
    fs.mkdirSync(dir);
    for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(dir, `offline_incident_${i}.txt`), '');
    let count = 0;
    for (const e of scanFolder(dir, nameClassifier(categoryById('incidents')))) if (!('failure' in e)) count++;
    expect(count).toBe(3000);
  });
});
