//! A file system that can lose power: an in-memory FUSE file system (`fuser`, pure-Rust mount)
//! that keeps two images, what the processes see (`live`) and what is on the "platter"
//! (`durable`), plus the operations not yet durable. A power cut ([`PowerFs::freeze`], then
//! [`PowerFs::crash`]) throws the live image away and builds the next one from the durable image
//! and a chosen part of the pending operations: nothing, everything, a random subset of pages, or
//! a prefix torn at a random byte or page boundary.
//!
//! Durability model (what a real disk under a journaling file system may keep):
//! - File data (writes, truncation, fallocate) is durable once `fsync`/`fdatasync` of that file
//!   returned. Until then each write may survive whole, partly (any subset of its 4 KiB pages, or
//!   a prefix torn at a byte or page boundary), or not at all, independently of the metadata; an
//!   unsynced size change may survive without the data written into it (reads as zeros).
//! - Metadata (create, mkdir, unlink, rmdir, rename) is a journal:
//!   - [`Model::Ordered`] (ext4 `data=ordered`, XFS): one journal for the whole file system,
//!     committed by any `fsync`/`fdatasync` of any file and by `fsync` of any directory; before a
//!     commit, the kernel may already have committed any *prefix* of the pending operations.
//!   - [`Model::Strict`] (what fsync(2) promises, no more): a directory's entries are durable only
//!     once that directory was fsync'd; each directory's pending operations survive a cut as a
//!     prefix of their own, independently of the other directories'. `fsync` of a file makes its
//!     data durable but not its name.
//! - Renames across directories are refused (`EXDEV`): the downloader never does one.
//!
//! A cut can be scheduled at the n-th operation of a class ([`Trip`]): the request is held in the
//! file system (before or after applying it) until the test has killed the process and frozen the
//! file system, so the cut lands exactly there; a frozen file system answers `EIO` to everything.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, UNIX_EPOCH};

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, LockOwner,
    OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};

use crate::download_support::Rng;

pub const PAGE: u64 = 4096;
const ROOT: u64 = 1;
/// The source name of our mounts in /proc/self/mountinfo is `<FSNAME>.<pid of the mounting
/// process>`: how leaked ones are found without touching another process's (other test runs on
/// the same machine).
pub const FSNAME: &str = "ossffi-powercut";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    Ordered,
    Strict,
}

/// What happens to unsynced file data at a cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataLoss {
    /// Every unsynced write and size change is lost.
    DropAll,
    /// Everything was written back before the cut.
    KeepAll,
    /// Each 4 KiB page of each unsynced write (and each size change) survives or not at random.
    Subset,
    /// The unsynced operations survive in order up to one, which is torn at a random byte.
    TornByte,
    /// The same, torn at a page boundary.
    TornPage,
}

pub const DATA_LOSSES: [DataLoss; 5] = [
    DataLoss::DropAll,
    DataLoss::KeepAll,
    DataLoss::Subset,
    DataLoss::TornByte,
    DataLoss::TornPage,
];

/// What happens to unsynced metadata operations at a cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaLoss {
    /// A random prefix survives (of the journal, or of each directory's operations).
    Prefix,
    /// All of them survive.
    KeepAll,
    /// None survives.
    DropAll,
}

/// Operation classes a cut can be scheduled on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpClass {
    /// write, truncate, fallocate
    Data,
    /// fsync, fdatasync, fsync of a directory
    Sync,
    /// create, mkdir, unlink, rmdir, rename
    Meta,
}

pub const OP_CLASSES: [OpClass; 3] = [OpClass::Data, OpClass::Sync, OpClass::Meta];

/// Hold the `n`-th operation (1-based) of `class`, before or after applying it.
#[derive(Clone, Copy, Debug)]
pub struct Trip {
    pub class: OpClass,
    pub n: u64,
    pub after: bool,
}

#[derive(Clone, Debug)]
enum Node {
    Dir(BTreeMap<OsString, u64>),
    File(Vec<u8>),
}

#[derive(Clone, Debug, Default)]
struct Image {
    nodes: HashMap<u64, Node>,
}

impl Image {
    fn new() -> Image {
        let mut nodes = HashMap::new();
        nodes.insert(ROOT, Node::Dir(BTreeMap::new()));
        Image { nodes }
    }

    fn dir_mut(&mut self, ino: u64) -> &mut BTreeMap<OsString, u64> {
        match self
            .nodes
            .entry(ino)
            .or_insert_with(|| Node::Dir(BTreeMap::new()))
        {
            Node::Dir(d) => d,
            Node::File(_) => panic!("inode {ino} is not a directory"),
        }
    }

    fn file_mut(&mut self, ino: u64) -> &mut Vec<u8> {
        match self
            .nodes
            .entry(ino)
            .or_insert_with(|| Node::File(Vec::new()))
        {
            Node::File(f) => f,
            Node::Dir(_) => panic!("inode {ino} is not a file"),
        }
    }

    fn apply_meta(&mut self, op: &MetaOp) {
        match op {
            MetaOp::Link {
                dir,
                name,
                ino,
                is_dir,
            } => {
                if !self.nodes.contains_key(ino) {
                    let n = if *is_dir {
                        Node::Dir(BTreeMap::new())
                    } else {
                        Node::File(Vec::new())
                    };
                    self.nodes.insert(*ino, n);
                }
                self.dir_mut(*dir).insert(name.clone(), *ino);
            }
            MetaOp::Unlink { dir, name } => {
                self.dir_mut(*dir).remove(name);
            }
            MetaOp::Rename { dir, from, to } => {
                let d = self.dir_mut(*dir);
                if let Some(ino) = d.remove(from) {
                    d.insert(to.clone(), ino);
                }
            }
        }
    }

    /// Drops the inodes no name reaches.
    fn collect(&mut self) {
        let mut keep = std::collections::HashSet::new();
        let mut todo = vec![ROOT];
        while let Some(i) = todo.pop() {
            if keep.insert(i) {
                if let Some(Node::Dir(d)) = self.nodes.get(&i) {
                    todo.extend(d.values().copied());
                }
            }
        }
        self.nodes.retain(|i, _| keep.contains(i));
    }

    fn resolve(&self, rel: &Path) -> Option<u64> {
        let mut ino = ROOT;
        for c in rel.components() {
            let std::path::Component::Normal(name) = c else {
                continue;
            };
            match self.nodes.get(&ino)? {
                Node::Dir(d) => ino = *d.get(name)?,
                Node::File(_) => return None,
            }
        }
        Some(ino)
    }
}

#[derive(Clone, Debug)]
enum DataOp {
    Write { offset: u64, data: Vec<u8> },
    SetLen(u64),
}

fn apply_data(f: &mut Vec<u8>, op: &DataOp) {
    match op {
        DataOp::Write { offset, data } => write_at(f, *offset, data),
        DataOp::SetLen(n) => f.resize(*n as usize, 0),
    }
}

fn write_at(f: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let end = offset as usize + data.len();
    if f.len() < end {
        f.resize(end, 0);
    }
    f[offset as usize..end].copy_from_slice(data);
}

#[derive(Clone, Debug)]
enum MetaOp {
    Link {
        dir: u64,
        name: OsString,
        ino: u64,
        is_dir: bool,
    },
    Unlink {
        dir: u64,
        name: OsString,
    },
    Rename {
        dir: u64,
        from: OsString,
        to: OsString,
    },
}

impl MetaOp {
    fn dir(&self) -> u64 {
        match self {
            MetaOp::Link { dir, .. } | MetaOp::Unlink { dir, .. } | MetaOp::Rename { dir, .. } => {
                *dir
            }
        }
    }
}

/// What one cut threw away (for the summary).
#[derive(Debug, Default, Clone, Copy)]
pub struct CutReport {
    pub data_ops_pending: u64,
    pub data_ops_dropped: u64,
    pub bytes_dropped: u64,
    pub torn: u64,
    pub meta_ops_pending: u64,
    pub meta_ops_dropped: u64,
}

struct State {
    model: Model,
    durable: Image,
    live: Image,
    pending_data: BTreeMap<u64, Vec<DataOp>>,
    pending_meta: Vec<MetaOp>,
    next_ino: u64,
    frozen: bool,
    trip: Option<Trip>,
    /// Set when a trip fired (the request is held until `frozen`).
    tripped: bool,
    counts: HashMap<OpClass, u64>,
}

impl State {
    /// Counts an operation of `class`; true when it is the one to hold.
    fn count(&mut self, class: OpClass) -> bool {
        let c = self.counts.entry(class).or_insert(0);
        *c += 1;
        matches!(self.trip, Some(t) if t.class == class && t.n == *c)
    }

    fn commit_all_meta(&mut self) {
        for op in std::mem::take(&mut self.pending_meta) {
            self.durable.apply_meta(&op);
        }
    }

    fn commit_dir(&mut self, dir: u64) {
        let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending_meta)
            .into_iter()
            .partition(|op| op.dir() == dir);
        for op in &mine {
            self.durable.apply_meta(op);
        }
        self.pending_meta = rest;
    }

    fn sync_file(&mut self, ino: u64) {
        if let Some(Node::File(data)) = self.live.nodes.get(&ino) {
            let data = data.clone();
            *self.durable.file_mut(ino) = data;
        }
        self.pending_data.remove(&ino);
    }

    fn attr(&self, ino: u64) -> Option<FileAttr> {
        let (kind, size, perm, nlink) = match self.live.nodes.get(&ino)? {
            Node::Dir(_) => (FileType::Directory, 0, 0o755, 2),
            Node::File(f) => (FileType::RegularFile, f.len() as u64, 0o644, 1),
        };
        Some(FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: UNIX_EPOCH,
            mtime: UNIX_EPOCH,
            ctime: UNIX_EPOCH,
            crtime: UNIX_EPOCH,
            kind,
            perm,
            nlink,
            uid: 0,
            gid: 0,
            rdev: 0,
            blksize: PAGE as u32,
            flags: 0,
        })
    }

    fn lookup(&self, parent: u64, name: &OsStr) -> Result<u64, Errno> {
        match self.live.nodes.get(&parent) {
            Some(Node::Dir(d)) => d.get(name).copied().ok_or(Errno::ENOENT),
            Some(Node::File(_)) => Err(Errno::ENOTDIR),
            None => Err(Errno::ENOENT),
        }
    }

    fn link(&mut self, parent: u64, name: &OsStr, is_dir: bool) -> Result<u64, Errno> {
        match self.lookup(parent, name) {
            Ok(_) => return Err(Errno::EEXIST),
            Err(e) if e != Errno::ENOENT => return Err(e),
            Err(_) => {}
        }
        if !matches!(self.live.nodes.get(&parent), Some(Node::Dir(_))) {
            return Err(Errno::ENOENT);
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        let op = MetaOp::Link {
            dir: parent,
            name: name.to_os_string(),
            ino,
            is_dir,
        };
        self.live.apply_meta(&op);
        self.pending_meta.push(op);
        Ok(ino)
    }

    fn data_op(&mut self, ino: u64, op: DataOp) -> Result<(), Errno> {
        match self.live.nodes.get_mut(&ino) {
            Some(Node::File(f)) => apply_data(f, &op),
            Some(Node::Dir(_)) => return Err(Errno::EISDIR),
            None => return Err(Errno::ENOENT),
        }
        self.pending_data.entry(ino).or_default().push(op);
        Ok(())
    }
}

struct Shared {
    st: Mutex<State>,
    cv: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs one mutating operation of `class`: answers EIO when frozen; holds it (before or after
    /// `f`) when it is the scheduled trip, until the test froze the file system.
    fn mutate<T>(
        &self,
        class: OpClass,
        f: impl FnOnce(&mut State) -> Result<T, Errno>,
    ) -> Result<T, Errno> {
        let mut st = self.lock();
        if st.frozen {
            return Err(Errno::EIO);
        }
        if !st.count(class) {
            return f(&mut st);
        }
        let after = st.trip.is_some_and(|t| t.after);
        let r = if after { Some(f(&mut st)) } else { None };
        st.tripped = true;
        self.cv.notify_all();
        // Held until the cut (a hang guard lets it go after a while).
        let deadline = Instant::now() + Duration::from_secs(60);
        while !st.frozen && Instant::now() < deadline {
            st = self
                .cv
                .wait_timeout(st, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        match r {
            Some(r) if !st.frozen => r,
            _ => Err(Errno::EIO),
        }
    }
}

struct Fuse(Arc<Shared>);

const TTL: Duration = Duration::ZERO;

impl Filesystem for Fuse {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let st = self.0.lock();
        if st.frozen {
            return reply.error(Errno::EIO);
        }
        match st.lookup(parent.0, name) {
            Ok(ino) => reply.entry(&TTL, &st.attr(ino).unwrap(), Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        let st = self.0.lock();
        match st.attr(ino.0) {
            Some(a) if !st.frozen => reply.attr(&TTL, &a),
            _ => reply.error(Errno::EIO),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        _mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<std::time::SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<std::time::SystemTime>,
        _chgtime: Option<std::time::SystemTime>,
        _bkuptime: Option<std::time::SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let r = match size {
            Some(n) => self
                .0
                .mutate(OpClass::Data, |st| st.data_op(ino.0, DataOp::SetLen(n))),
            None => Ok(()),
        };
        let st = self.0.lock();
        match (r, st.attr(ino.0)) {
            (Ok(()), Some(a)) if !st.frozen => reply.attr(&TTL, &a),
            (Err(e), _) => reply.error(e),
            _ => reply.error(Errno::EIO),
        }
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        _mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        match self
            .0
            .mutate(OpClass::Meta, |st| st.link(parent.0, name, true))
        {
            Ok(ino) => reply.entry(&TTL, &self.0.lock().attr(ino).unwrap(), Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        _mode: u32,
        _umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        match self
            .0
            .mutate(OpClass::Meta, |st| st.link(parent.0, name, false))
        {
            Ok(ino) => reply.created(
                &TTL,
                &self.0.lock().attr(ino).unwrap(),
                Generation(0),
                FileHandle(ino),
                FopenFlags::empty(),
            ),
            Err(e) => reply.error(e),
        }
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        self.remove(parent.0, name, false, reply)
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        self.remove(parent.0, name, true, reply)
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        if parent != newparent {
            return reply.error(Errno::EXDEV);
        }
        if !flags.is_empty() {
            return reply.error(Errno::EINVAL);
        }
        let r = self.0.mutate(OpClass::Meta, |st| {
            let ino = st.lookup(parent.0, name)?;
            if let Ok(old) = st.lookup(parent.0, newname) {
                if matches!(st.live.nodes.get(&old), Some(Node::Dir(_)))
                    || matches!(st.live.nodes.get(&ino), Some(Node::Dir(_)))
                {
                    return Err(Errno::EISDIR);
                }
            }
            let op = MetaOp::Rename {
                dir: parent.0,
                from: name.to_os_string(),
                to: newname.to_os_string(),
            };
            st.live.apply_meta(&op);
            st.pending_meta.push(op);
            Ok(())
        });
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        if flags.0 & libc::O_DIRECT != 0 {
            DIRECT_OPENS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let st = self.0.lock();
        match st.live.nodes.get(&ino.0) {
            Some(_) if !st.frozen => reply.opened(FileHandle(ino.0), FopenFlags::empty()),
            _ => reply.error(Errno::EIO),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let st = self.0.lock();
        if st.frozen {
            return reply.error(Errno::EIO);
        }
        match st.live.nodes.get(&ino.0) {
            Some(Node::File(f)) => {
                let a = (offset as usize).min(f.len());
                let b = (a + size as usize).min(f.len());
                reply.data(&f[a..b])
            }
            Some(Node::Dir(_)) => reply.error(Errno::EISDIR),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let r = self.0.mutate(OpClass::Data, |st| {
            st.data_op(
                ino.0,
                DataOp::Write {
                    offset,
                    data: data.to_vec(),
                },
            )
        });
        match r {
            Ok(()) => reply.written(data.len() as u32),
            Err(e) => reply.error(e),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.ok()
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        let r = self.0.mutate(OpClass::Sync, |st| {
            st.sync_file(ino.0);
            if st.model == Model::Ordered {
                st.commit_all_meta();
            }
            Ok(())
        });
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let st = self.0.lock();
        match st.live.nodes.get(&ino.0) {
            Some(Node::Dir(_)) if !st.frozen => {
                reply.opened(FileHandle(ino.0), FopenFlags::empty())
            }
            _ => reply.error(Errno::EIO),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let st = self.0.lock();
        let Some(Node::Dir(d)) = st.live.nodes.get(&ino.0).filter(|_| !st.frozen) else {
            return reply.error(Errno::EIO);
        };
        let mut all = vec![
            (ino.0, FileType::Directory, OsString::from(".")),
            (ino.0, FileType::Directory, OsString::from("..")),
        ];
        for (name, i) in d {
            let kind = match st.live.nodes.get(i) {
                Some(Node::Dir(_)) => FileType::Directory,
                _ => FileType::RegularFile,
            };
            all.push((*i, kind, name.clone()));
        }
        for (k, (i, kind, name)) in all.into_iter().enumerate().skip(offset as usize) {
            if reply.add(INodeNo(i), (k + 1) as u64, kind, &name) {
                break;
            }
        }
        reply.ok()
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        let r = self.0.mutate(OpClass::Sync, |st| {
            match st.model {
                Model::Ordered => st.commit_all_meta(),
                Model::Strict => st.commit_dir(ino.0),
            }
            Ok(())
        });
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        reply.statfs(
            1 << 24,
            1 << 23,
            1 << 23,
            1 << 20,
            1 << 19,
            PAGE as u32,
            255,
            PAGE as u32,
        )
    }

    fn fallocate(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        if mode != 0 {
            return reply.error(Errno::EOPNOTSUPP);
        }
        let r = self.0.mutate(OpClass::Data, |st| {
            let len = match st.live.nodes.get(&ino.0) {
                Some(Node::File(f)) => f.len() as u64,
                _ => return Err(Errno::EBADF),
            };
            if offset + length > len {
                st.data_op(ino.0, DataOp::SetLen(offset + length))?;
            }
            Ok(())
        });
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }
}

impl Fuse {
    fn remove(&self, parent: u64, name: &OsStr, dir: bool, reply: ReplyEmpty) {
        let r = self.0.mutate(OpClass::Meta, |st| {
            let ino = st.lookup(parent, name)?;
            match (st.live.nodes.get(&ino), dir) {
                (Some(Node::Dir(d)), true) if !d.is_empty() => return Err(Errno::ENOTEMPTY),
                (Some(Node::Dir(_)), false) => return Err(Errno::EISDIR),
                (Some(Node::File(_)), true) => return Err(Errno::ENOTDIR),
                _ => {}
            }
            let op = MetaOp::Unlink {
                dir: parent,
                name: name.to_os_string(),
            };
            st.live.apply_meta(&op);
            st.pending_meta.push(op);
            Ok(())
        });
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }
}

/// The file system's state, mountable again and again at one mount point (the downloader's
/// checkpoint records absolute paths, so a resume must see the same ones).
/// Opens with `O_DIRECT` seen by every power-cut file system of this process: the downloader's
/// direct-I/O write path, when the kernel lets it reach FUSE, is then what the cuts exercise
/// (its writes arrive here like any other and are lost at a cut unless synced).
pub static DIRECT_OPENS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub struct PowerFs {
    shared: Arc<Shared>,
    pub mountpoint: PathBuf,
}

/// A mount of a [`PowerFs`]; unmounted on drop (lazily if it is busy).
pub struct Mounted {
    session: Option<fuser::BackgroundSession>,
    mountpoint: PathBuf,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(s) = self.session.take() {
            if s.umount_and_join().is_err() {
                lazy_unmount(&self.mountpoint);
            }
        }
        if is_mounted(&self.mountpoint) {
            lazy_unmount(&self.mountpoint);
        }
        forget_mount(&self.mountpoint);
    }
}

/// Mount points of this process's power-cut file systems (for the suite's emergency unmount).
static MOUNTS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn forget_mount(p: &Path) {
    MOUNTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|m| m != p);
}

/// Lazily unmounts every mount of ours still up (the suite calls this before exiting on a hang,
/// where destructors do not run).
pub fn emergency_unmount() {
    for m in MOUNTS.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
        lazy_unmount(&m);
    }
}

pub fn lazy_unmount(p: &Path) {
    let _ = Command::new("umount").arg("-l").arg(p).output();
    let _ = Command::new("fusermount3")
        .arg("-u")
        .arg("-z")
        .arg(p)
        .output();
}

/// Mount points of power-cut file systems in /proc/self/mountinfo, with the mounting process.
fn all_mounts() -> Vec<(PathBuf, u32)> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let point = left.split(' ').nth(4)?;
            let source = right.split(' ').nth(1)?;
            let pid = source
                .strip_prefix(FSNAME)?
                .strip_prefix('.')?
                .parse()
                .ok()?;
            Some((PathBuf::from(unescape_mountinfo(point)), pid))
        })
        .collect()
}

/// This process's power-cut mounts.
pub fn our_mounts() -> Vec<PathBuf> {
    let me = std::process::id();
    all_mounts()
        .into_iter()
        .filter(|(_, pid)| *pid == me)
        .map(|(p, _)| p)
        .collect()
}

/// Mounts left by processes that died without unmounting (their FUSE connection is gone).
pub fn orphaned_mounts() -> Vec<PathBuf> {
    all_mounts()
        .into_iter()
        .filter(|(_, pid)| !Path::new(&format!("/proc/{pid}")).exists())
        .map(|(p, _)| p)
        .collect()
}

fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 4], 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn is_mounted(p: &Path) -> bool {
    our_mounts().iter().any(|m| m == p)
}

impl PowerFs {
    /// An empty file system (its root) to be mounted at `mountpoint` (an existing directory).
    pub fn new(model: Model, mountpoint: &Path) -> PowerFs {
        PowerFs {
            shared: Arc::new(Shared {
                st: Mutex::new(State {
                    model,
                    durable: Image::new(),
                    live: Image::new(),
                    pending_data: BTreeMap::new(),
                    pending_meta: Vec::new(),
                    next_ino: ROOT + 1,
                    frozen: false,
                    trip: None,
                    tripped: false,
                    counts: HashMap::new(),
                }),
                cv: Condvar::new(),
            }),
            mountpoint: mountpoint
                .canonicalize()
                .unwrap_or_else(|_| mountpoint.to_path_buf()),
        }
    }

    pub fn mount(&self) -> io::Result<Mounted> {
        let mut cfg = fuser::Config::default();
        cfg.mount_options = vec![
            fuser::MountOption::FSName(format!("{FSNAME}.{}", std::process::id())),
            fuser::MountOption::NoAtime,
        ];
        MOUNTS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(self.mountpoint.clone());
        // The guard first: a mount that half worked is undone too.
        let mut m = Mounted {
            session: None,
            mountpoint: self.mountpoint.clone(),
        };
        m.session = Some(fuser::spawn_mount(
            Fuse(self.shared.clone()),
            &self.mountpoint,
            &cfg,
        )?);
        Ok(m)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// Schedules the next cut (and resets the operation counts).
    pub fn arm(&self, trip: Option<Trip>) {
        let mut st = self.lock();
        st.trip = trip;
        st.tripped = false;
        st.counts.clear();
    }

    /// Operations counted since the last `arm`, per class.
    pub fn counts(&self) -> HashMap<OpClass, u64> {
        self.lock().counts.clone()
    }

    /// Waits up to `timeout` for the armed trip to fire.
    pub fn wait_tripped(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        while !st.tripped {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            st = self
                .shared
                .cv
                .wait_timeout(st, left.min(Duration::from_millis(20)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// The power goes: from now on every request fails with EIO and nothing more changes.
    pub fn freeze(&self) {
        self.lock().frozen = true;
        self.shared.cv.notify_all();
    }

    /// After `freeze` (and with the file system unmounted): what survives becomes the next image.
    pub fn crash(&self, rng: &mut Rng, loss: DataLoss) -> CutReport {
        self.crash_with(rng, loss, MetaLoss::Prefix)
    }

    /// `crash` with the metadata's fate chosen (for deterministic reproducers).
    pub fn crash_with(&self, rng: &mut Rng, loss: DataLoss, meta_loss: MetaLoss) -> CutReport {
        let mut st = self.lock();
        assert!(st.frozen, "crash() without freeze()");
        let mut rep = CutReport::default();
        // Metadata first (names), then data (contents of whichever inodes exist).
        let meta = std::mem::take(&mut st.pending_meta);
        rep.meta_ops_pending = meta.len() as u64;
        let prefix = |rng: &mut Rng, n: usize| match meta_loss {
            MetaLoss::Prefix => prefix_len(rng, n),
            MetaLoss::KeepAll => n,
            MetaLoss::DropAll => 0,
        };
        let kept: Vec<&MetaOp> = match st.model {
            Model::Ordered => {
                let k = prefix(rng, meta.len());
                meta[..k].iter().collect()
            }
            Model::Strict => {
                let mut per_dir: BTreeMap<u64, usize> = BTreeMap::new();
                for op in &meta {
                    *per_dir.entry(op.dir()).or_default() += 1;
                }
                let keep: BTreeMap<u64, usize> = per_dir
                    .into_iter()
                    .map(|(d, n)| (d, prefix(rng, n)))
                    .collect();
                let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
                meta.iter()
                    .filter(|op| {
                        let s = seen.entry(op.dir()).or_default();
                        *s += 1;
                        *s <= keep[&op.dir()]
                    })
                    .collect()
            }
        };
        rep.meta_ops_dropped = (meta.len() - kept.len()) as u64;
        for op in kept {
            st.durable.apply_meta(op);
        }
        let pending = std::mem::take(&mut st.pending_data);
        for (ino, ops) in pending {
            rep.data_ops_pending += ops.len() as u64;
            let f = st.durable.file_mut(ino);
            let torn_at = rng.below(ops.len().max(1) as u64) as usize;
            for (i, op) in ops.iter().enumerate() {
                let (kept_bytes, total) = match loss {
                    DataLoss::DropAll => (0, op_bytes(op)),
                    DataLoss::KeepAll => {
                        apply_data(f, op);
                        (op_bytes(op), op_bytes(op))
                    }
                    DataLoss::Subset => subset(f, op, rng),
                    DataLoss::TornByte | DataLoss::TornPage => {
                        if i < torn_at {
                            apply_data(f, op);
                            (op_bytes(op), op_bytes(op))
                        } else if i == torn_at {
                            rep.torn += 1;
                            torn(f, op, rng, loss == DataLoss::TornPage)
                        } else {
                            (0, op_bytes(op))
                        }
                    }
                };
                if kept_bytes < total {
                    rep.data_ops_dropped += 1;
                    rep.bytes_dropped += total - kept_bytes;
                }
            }
        }
        st.durable.collect();
        st.live = st.durable.clone();
        st.next_ino = st.live.nodes.keys().max().copied().unwrap_or(ROOT) + 1;
        st.frozen = false;
        st.trip = None;
        st.tripped = false;
        rep
    }

    /// Makes everything durable (a clean shutdown), e.g. before setting up a scenario.
    pub fn sync_all(&self) {
        let mut st = self.lock();
        st.commit_all_meta();
        let inos: Vec<u64> = st.pending_data.keys().copied().collect();
        for i in inos {
            st.sync_file(i);
        }
    }

    /// The live content of the file at `rel` (relative to the mount point), if it is a file.
    pub fn read(&self, rel: &Path) -> Option<Vec<u8>> {
        let st = self.lock();
        match st.live.nodes.get(&st.live.resolve(rel)?)? {
            Node::File(f) => Some(f.clone()),
            Node::Dir(_) => None,
        }
    }

    /// Names in the live directory at `rel`.
    pub fn list(&self, rel: &Path) -> Vec<OsString> {
        let st = self.lock();
        match st.live.resolve(rel).and_then(|i| st.live.nodes.get(&i)) {
            Some(Node::Dir(d)) => d.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// Writes a file durably, leaving the other pending operations pending (set-up between
    /// runs, while no process uses the file system).
    pub fn put_durable(&self, rel: &Path, data: &[u8]) {
        self.remove_durable(rel);
        let mut st = self.lock();
        let parent = st
            .live
            .resolve(rel.parent().unwrap_or(Path::new("")))
            .expect("parent directory");
        let ino = st.next_ino;
        st.next_ino += 1;
        let op = MetaOp::Link {
            dir: parent,
            name: rel.file_name().unwrap().to_os_string(),
            ino,
            is_dir: false,
        };
        st.live.apply_meta(&op);
        st.durable.apply_meta(&op);
        *st.live.file_mut(ino) = data.to_vec();
        *st.durable.file_mut(ino) = data.to_vec();
    }

    /// Creates a directory durably (set-up).
    pub fn mkdir_durable(&self, rel: &Path) {
        let mut st = self.lock();
        let parent = st
            .live
            .resolve(rel.parent().unwrap_or(Path::new("")))
            .expect("parent directory");
        let name = rel.file_name().unwrap();
        if st.lookup(parent, name).is_err() {
            let ino = st.next_ino;
            st.next_ino += 1;
            let op = MetaOp::Link {
                dir: parent,
                name: name.to_os_string(),
                ino,
                is_dir: true,
            };
            st.live.apply_meta(&op);
            st.durable.apply_meta(&op);
        }
    }

    /// Removes a name durably, in both images (set-up between runs).
    pub fn remove_durable(&self, rel: &Path) {
        let mut st = self.lock();
        let Some(parent) = st.live.resolve(rel.parent().unwrap_or(Path::new(""))) else {
            return;
        };
        let op = MetaOp::Unlink {
            dir: parent,
            name: rel.file_name().unwrap().to_os_string(),
        };
        st.live.apply_meta(&op);
        if st.durable.nodes.contains_key(&parent) {
            st.durable.apply_meta(&op);
        }
    }

    /// Pending (unsynced) data and metadata operations.
    pub fn pending(&self) -> (usize, usize) {
        let st = self.lock();
        (
            st.pending_data.values().map(Vec::len).sum(),
            st.pending_meta.len(),
        )
    }
}

/// A random prefix length in 0..=n: none, all, or anything between, each end with a fair chance.
fn prefix_len(rng: &mut Rng, n: usize) -> usize {
    match rng.below(4) {
        0 => 0,
        1 => n,
        _ => rng.below(n as u64 + 1) as usize,
    }
}

fn op_bytes(op: &DataOp) -> u64 {
    match op {
        DataOp::Write { data, .. } => data.len() as u64,
        DataOp::SetLen(_) => 1,
    }
}

/// Keeps each page of a write (or a size change) with probability 1/2; returns (kept, total).
fn subset(f: &mut Vec<u8>, op: &DataOp, rng: &mut Rng) -> (u64, u64) {
    match op {
        DataOp::SetLen(_) => {
            if rng.below(2) == 0 {
                apply_data(f, op);
                (1, 1)
            } else {
                (0, 1)
            }
        }
        DataOp::Write { offset, data } => {
            let mut kept = 0;
            let end = offset + data.len() as u64;
            let mut a = *offset;
            while a < end {
                let b = ((a / PAGE + 1) * PAGE).min(end);
                if rng.below(2) == 0 {
                    let s = &data[(a - offset) as usize..(b - offset) as usize];
                    write_at(f, a, s);
                    kept += b - a;
                }
                a = b;
            }
            (kept, data.len() as u64)
        }
    }
}

/// Keeps a prefix of a write, cut at a random byte (or page boundary); returns (kept, total).
fn torn(f: &mut Vec<u8>, op: &DataOp, rng: &mut Rng, page: bool) -> (u64, u64) {
    match op {
        DataOp::SetLen(_) => (0, 1),
        DataOp::Write { offset, data } => {
            let len = data.len() as u64;
            let mut cut = rng.below(len + 1);
            if page {
                let end = offset + cut;
                cut = (end / PAGE * PAGE).saturating_sub(*offset).min(len);
            }
            write_at(f, *offset, &data[..cut as usize]);
            (cut, len)
        }
    }
}

/// Whether this process can mount a FUSE file system here (a probe mount, unmounted at once).
pub fn probe(dir: &Path) -> Result<(), String> {
    if !Path::new("/dev/fuse").exists() {
        return Err("/dev/fuse does not exist".into());
    }
    let fs = PowerFs::new(Model::Ordered, dir);
    let m = fs
        .mount()
        .map_err(|e| format!("mounting FUSE failed: {e}"))?;
    let probe = dir.join("probe");
    let r = std::fs::write(&probe, b"x").and_then(|_| std::fs::read(&probe));
    drop(m);
    match r {
        Ok(b) if b == b"x" => Ok(()),
        Ok(_) => Err("the probe file read back wrong".into()),
        Err(e) => Err(format!("the probe mount does not work: {e}")),
    }
}

/// Relative path of `p` under the mount point.
pub fn rel<'a>(fs: &PowerFs, p: &'a Path) -> &'a Path {
    p.strip_prefix(&fs.mountpoint)
        .expect("a path on the file system")
}

pub fn os(s: &str) -> &OsStr {
    OsStr::from_bytes(s.as_bytes())
}

// Unit tests of the model (built by tests/powerfs.rs, a libtest target that includes this file;
// the reliability binary itself has no test harness).
#[cfg(test)]
mod tests {
    use super::*;

    fn fs(model: Model) -> PowerFs {
        PowerFs::new(model, Path::new("/nonexistent-mountpoint"))
    }

    fn st(fs: &PowerFs) -> MutexGuard<'_, State> {
        fs.lock()
    }

    fn create(fs: &PowerFs, dir: &str, name: &str) -> u64 {
        let mut s = st(fs);
        let parent = s.live.resolve(Path::new(dir)).unwrap();
        s.link(parent, os(name), false).unwrap()
    }

    fn write(fs: &PowerFs, ino: u64, offset: u64, data: &[u8]) {
        st(fs)
            .data_op(
                ino,
                DataOp::Write {
                    offset,
                    data: data.to_vec(),
                },
            )
            .unwrap();
    }

    fn cut(fs: &PowerFs, seed: u64, loss: DataLoss, meta: MetaLoss) -> CutReport {
        fs.freeze();
        fs.crash_with(&mut Rng(seed), loss, meta)
    }

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8 + 1).collect()
    }

    #[test]
    fn synced_data_survives_unsynced_data_may_not() {
        for (loss, want) in [
            (DataLoss::DropAll, &b"hello"[..]),
            (DataLoss::KeepAll, &b"hello world"[..]),
        ] {
            let fs = fs(Model::Ordered);
            let a = create(&fs, "", "a");
            write(&fs, a, 0, b"hello");
            {
                let mut s = st(&fs);
                s.sync_file(a);
                s.commit_all_meta();
            }
            write(&fs, a, 5, b" world");
            let rep = cut(&fs, 1, loss, MetaLoss::DropAll);
            assert_eq!(fs.read(Path::new("a")).unwrap(), want, "{loss:?}");
            assert_eq!(rep.data_ops_pending, 1);
        }
    }

    #[test]
    fn a_frozen_file_system_changes_nothing() {
        let fs = fs(Model::Ordered);
        let a = create(&fs, "", "a");
        fs.freeze();
        let shared = fs.shared.clone();
        let r = shared.mutate(OpClass::Data, |st| {
            st.data_op(
                a,
                DataOp::Write {
                    offset: 0,
                    data: b"late".to_vec(),
                },
            )
        });
        assert_eq!(r, Err(Errno::EIO));
        assert_eq!(fs.pending().0, 0);
    }

    #[test]
    fn torn_writes_keep_a_prefix() {
        let data = pattern(3 * PAGE as usize + 100);
        for seed in 0..40 {
            for loss in [DataLoss::TornByte, DataLoss::TornPage] {
                let fs = fs(Model::Ordered);
                let a = create(&fs, "", "a");
                st(&fs).commit_all_meta();
                write(&fs, a, 0, &data);
                let rep = cut(&fs, seed, loss, MetaLoss::KeepAll);
                assert_eq!(rep.torn, 1);
                let got = fs.read(Path::new("a")).unwrap();
                assert!(got.len() <= data.len());
                assert_eq!(got[..], data[..got.len()], "not a prefix");
                if loss == DataLoss::TornPage {
                    assert_eq!(got.len() as u64 % PAGE, 0, "not torn at a page boundary");
                }
            }
        }
    }

    #[test]
    fn subsets_keep_whole_pages() {
        let data = pattern(8 * PAGE as usize);
        let mut kept_some = false;
        let mut lost_some = false;
        for seed in 0..20 {
            let fs = fs(Model::Ordered);
            let a = create(&fs, "", "a");
            write(&fs, a, 0, &vec![0u8; data.len()]);
            {
                let mut s = st(&fs);
                s.sync_file(a);
                s.commit_all_meta();
            }
            write(&fs, a, 0, &data);
            cut(&fs, seed, DataLoss::Subset, MetaLoss::KeepAll);
            let got = fs.read(Path::new("a")).unwrap();
            assert_eq!(got.len(), data.len());
            for (g, d) in got.chunks(PAGE as usize).zip(data.chunks(PAGE as usize)) {
                let whole = g == d;
                let none = g.iter().all(|&b| b == 0);
                assert!(whole || none, "a page survived in part");
                kept_some |= whole;
                lost_some |= none;
            }
        }
        assert!(kept_some && lost_some);
    }

    #[test]
    fn ordered_any_fsync_commits_every_pending_name() {
        let fs = fs(Model::Ordered);
        let a = create(&fs, "", "a");
        write(&fs, a, 0, b"A");
        {
            let mut s = st(&fs);
            s.sync_file(a);
            let root = ROOT;
            let op = MetaOp::Rename {
                dir: root,
                from: "a".into(),
                to: "b".into(),
            };
            s.live.apply_meta(&op);
            s.pending_meta.push(op);
        }
        let c = create(&fs, "", "c");
        {
            // fsync of c: ext4 commits the journal, the rename of a included.
            let mut s = st(&fs);
            s.sync_file(c);
            s.commit_all_meta();
        }
        cut(&fs, 3, DataLoss::DropAll, MetaLoss::DropAll);
        assert_eq!(fs.read(Path::new("b")).unwrap(), b"A");
        assert!(fs.read(Path::new("a")).is_none());
        assert_eq!(fs.read(Path::new("c")).unwrap(), b"");
    }

    #[test]
    fn strict_names_need_their_directory_fsync() {
        let fs = fs(Model::Strict);
        fs.mkdir_durable(Path::new("d1"));
        fs.mkdir_durable(Path::new("d2"));
        let x = create(&fs, "d1", "x");
        let y = create(&fs, "d2", "y");
        write(&fs, x, 0, b"X");
        write(&fs, y, 0, b"Y");
        {
            let mut s = st(&fs);
            s.sync_file(x);
            s.sync_file(y);
            let d1 = s.live.resolve(Path::new("d1")).unwrap();
            s.commit_dir(d1);
        }
        cut(&fs, 4, DataLoss::DropAll, MetaLoss::DropAll);
        assert_eq!(fs.read(Path::new("d1/x")).unwrap(), b"X");
        assert!(
            fs.read(Path::new("d2/y")).is_none(),
            "fsync of the file made its name durable"
        );
    }

    #[test]
    fn metadata_survives_as_a_prefix() {
        let names = ["a", "b", "c", "d"];
        let mut seen = std::collections::HashSet::new();
        for seed in 0..60 {
            let fs = fs(Model::Ordered);
            for n in names {
                create(&fs, "", n);
            }
            cut(&fs, seed, DataLoss::KeepAll, MetaLoss::Prefix);
            let left: Vec<String> = fs
                .list(Path::new(""))
                .into_iter()
                .map(|n| n.to_string_lossy().into_owned())
                .collect();
            assert_eq!(left[..], names[..left.len()], "not a prefix");
            seen.insert(left.len());
        }
        assert!(seen.contains(&0) && seen.contains(&names.len()) && seen.len() > 2);
    }

    /// Through the kernel: needs FUSE (root and /dev/fuse); skipped without it unless
    /// OSS_TEST_REQUIRE_FUSE=1.
    #[test]
    fn mounted_cut_through_the_kernel() {
        let dir = tempfile::tempdir().unwrap();
        let mnt = dir.path().join("mnt");
        std::fs::create_dir_all(&mnt).unwrap();
        if let Err(why) = probe(&mnt) {
            assert!(
                !std::env::var("OSS_TEST_REQUIRE_FUSE").is_ok_and(|v| v == "1"),
                "OSS_TEST_REQUIRE_FUSE=1 but {why}"
            );
            eprintln!("skipped: {why}");
            return;
        }
        let fs = PowerFs::new(Model::Ordered, &mnt);
        let m = fs.mount().unwrap();
        let p = |n: &str| fs.mountpoint.join(n);
        let mut f = std::fs::File::create(p("f1")).unwrap();
        std::io::Write::write_all(&mut f, b"synced").unwrap();
        f.sync_all().unwrap();
        drop(f);
        std::fs::write(p("f2"), b"never synced").unwrap();
        std::fs::rename(p("f1"), p("f3")).unwrap();
        std::fs::File::open(&fs.mountpoint)
            .unwrap()
            .sync_all()
            .unwrap();
        // A held request: the n-th metadata operation waits for the cut and then fails.
        fs.arm(Some(Trip {
            class: OpClass::Meta,
            n: 1,
            after: false,
        }));
        let held = std::thread::spawn({
            let path = p("f4");
            move || std::fs::write(path, b"held")
        });
        assert!(fs.wait_tripped(Duration::from_secs(10)));
        fs.freeze();
        assert!(held.join().unwrap().is_err(), "the held create succeeded");
        drop(m);
        assert!(!is_mounted(&fs.mountpoint), "still mounted after drop");
        fs.crash_with(&mut Rng(5), DataLoss::DropAll, MetaLoss::DropAll);
        assert_eq!(fs.read(Path::new("f3")).unwrap(), b"synced");
        assert!(fs.read(Path::new("f1")).is_none());
        assert_eq!(
            fs.read(Path::new("f2")).unwrap(),
            b"",
            "unsynced data survived"
        );
        assert!(fs.read(Path::new("f4")).is_none());
        // The remount shows what survived.
        let m = fs.mount().unwrap();
        assert_eq!(std::fs::read(p("f3")).unwrap(), b"synced");
        assert!(!p("f4").exists());
        drop(m);
    }
}
