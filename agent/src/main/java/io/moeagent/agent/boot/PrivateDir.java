package io.moeagent.agent.boot;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Set;

/**
 * A directory only the current user can write, for the agent's extracted jars (which the host then loads, the
 * bridge on the bootstrap class path). {@code $TMPDIR/moe-agent-USER} is created with mode 0700; when it exists
 * already it is used only if it is a real directory (not a link), owned by this user, with no permission for
 * group or others. Otherwise (planted by another user, or made loose) it is never used: the agent extracts into
 * a new 0700 temporary directory of its own for this JVM and says so in one line. On a file system without
 * POSIX permissions (Windows) the user's temp directory is trusted as it is.
 */
final class PrivateDir {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    /** True when this JVM extracts into a fresh directory of its own, deleted at exit. */
    static boolean temporary;

    private PrivateDir() {
    }

    /** The user's private directory under {@code tmp}, checked, or a fresh private one. */
    static Path forUser(Path tmp) throws IOException {
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9_.-]", "_");
        Path dir = tmp.resolve("moe-agent-" + user);
        String problem = problem(dir, true);
        if (problem == null) {
            return dir;
        }
        Path fresh = posix(tmp) ? Files.createTempDirectory(tmp, "moe-agent-",
                PosixFilePermissions.asFileAttribute(OWNER_ONLY)) : Files.createTempDirectory(tmp, "moe-agent-");
        temporary = true;
        fresh.toFile().deleteOnExit();
        System.err.println(BootLines.line(dir + " " + problem + "; the agent does not use it and extracts into "
                + fresh + " instead"));
        return fresh;
    }

    /** A checked 0700 subdirectory {@code name} of the private directory {@code parent}. */
    static Path child(Path parent, String name) throws IOException {
        Path dir = parent.resolve(name);
        String problem = problem(dir, true);
        if (problem != null) {
            throw new IOException(dir + " " + problem);
        }
        if (temporary) {
            dir.toFile().deleteOnExit();
        }
        return dir;
    }

    /**
     * Null when {@code dir} is (or, with {@code create}, has just been made) a private directory of this user,
     * else what is wrong with it.
     */
    static String problem(Path dir, boolean create) throws IOException {
        boolean posix = posix(dir.getParent());
        if (create && !Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            try {
                if (posix) {
                    Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
                } else {
                    Files.createDirectory(dir);
                }
            } catch (FileAlreadyExistsException e) {
                // made by someone else just now: checked below like any existing one
            }
        }
        if (!posix) {
            return Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) ? null : "is not a directory";
        }
        PosixFileAttributes a;
        try {
            a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return "cannot be read (" + e.getClass().getSimpleName() + ")";
        }
        if (a.isSymbolicLink() || !a.isDirectory()) {
            return "is not a directory but a " + (a.isSymbolicLink() ? "symbolic link" : "file");
        }
        UserPrincipal me = dir.getFileSystem().getUserPrincipalLookupService()
                .lookupPrincipalByName(System.getProperty("user.name"));
        if (!a.owner().equals(me)) {
            return "belongs to " + a.owner().getName() + ", not to " + me.getName();
        }
        Set<PosixFilePermission> p = a.permissions();
        if (p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE)) {
            return "has mode " + PosixFilePermissions.toString(p) + " (others may have written into it;"
                    + " expected rwx------)";
        }
        if (!p.equals(OWNER_ONLY)) {
            // ours, and nobody else could ever write into it (an older agent made it with the umask): tighten
            Files.setPosixFilePermissions(dir, OWNER_ONLY);
        }
        return null;
    }

    private static boolean posix(Path dir) {
        return dir != null && Files.getFileAttributeView(dir, PosixFileAttributeView.class) != null;
    }
}
