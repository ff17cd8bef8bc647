// File reading with checks before allocation, and atomic writing (temp file + rename), so an
// output file is either the old one or the complete new one, never half written.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum AtomicFile {
    /// Reads a whole file, refusing directories, missing files and files over `limit` bytes.
    public static func read(_ path: String, limit: Int = ImageIOError.maxFileBytes) throws -> [UInt8] {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw ImageIOError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        try requireRegular(st.st_mode, path: path)
        // O_NONBLOCK: if the path was swapped for a FIFO after stat, open must not wait for a writer.
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else {
            throw ImageIOError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        guard fstat(fd, &st) == 0 else { throw ImageIOError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        try requireRegular(st.st_mode, path: path)
        let size = Int(st.st_size)
        if size > limit { throw ImageIOError.tooBig(path: path, bytes: size) }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw ImageIOError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
            if n == 0 { break }
            done += n
        }
        return done == size ? bytes : Array(bytes[0..<done])
    }

    /// Only regular files are read: a FIFO or a device would block (or never end), a folder has no bytes.
    static func requireRegular(_ mode: mode_t, path: String) throws {
        switch mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw ImageIOError.cannotOpen(path: path, reason: "it is a folder")
        case S_IFIFO: throw ImageIOError.cannotOpen(path: path, reason: "it is a FIFO (named pipe), not a regular file")
        case S_IFCHR, S_IFBLK: throw ImageIOError.cannotOpen(path: path, reason: "it is a device, not a regular file")
        case S_IFSOCK: throw ImageIOError.cannotOpen(path: path, reason: "it is a socket, not a regular file")
        default: throw ImageIOError.cannotOpen(path: path, reason: "not a regular file")
        }
    }

    /// Removes the temporaries `write` leaves when a drht process is killed mid-write
    /// (`.NAME.tmp-drht-PID-RANDOM`) whose process no longer exists. Others' files, and
    /// temporaries of running drht processes, are left alone.
    public static func removeStaleTemporaries(in dir: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir) else { return }
        for name in names where name.hasPrefix(".") {
            guard let marker = name.range(of: ".tmp-drht-", options: .backwards) else { continue }
            let parts = name[marker.upperBound...].split(separator: "-")
            guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, UInt32(parts[1]) != nil else { continue }
            if pid == getpid() { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }      // still running (or not ours to judge)
            unlink((dir.isEmpty ? "." : dir) + "/" + name)
        }
    }

    /// Writes `bytes` to `path` atomically: a temp file in the same folder is written, flushed
    /// and renamed over `path`. On any failure the temp file is removed and `path` is untouched.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        removeStaleTemporaries(in: dir)
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-drht-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            throw ImageIOError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw ImageIOError.cannotWrite(path: path, reason: reason)
            }
            done += n
        }
        let synced = fsync(fd), closed = close(fd)
        if synced != 0 || closed != 0 {
            throw ImageIOError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        guard rename(tmp, path) == 0 else {
            throw ImageIOError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        ok = true
    }
}
