package io.moeagent.agent.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.JarFile;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9 item 7: the extracted jars (the bridge goes on the bootstrap class path) live only in a directory no
 * other user can write, and a jar there is used only when its bytes are the agent jar's.
 */
class PrivateDirTest {
    @TempDir
    Path tmp;

    @Test
    void createsTheUsersDirectoryOwnerOnly() throws Exception {
        Path dir = PrivateDir.forUser(tmp);
        assertEquals(tmp.resolve("moe-agent-" + System.getProperty("user.name")), dir);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        assertEquals(dir, PrivateDir.forUser(tmp), "used again");
    }

    @Test
    void aDirectoryOthersCouldWriteIsNeverUsed() throws Exception {
        Path planted = Files.createDirectory(tmp.resolve("moe-agent-" + System.getProperty("user.name")));
        Files.setPosixFilePermissions(planted, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertTrue(PrivateDir.problem(planted, false).contains("others may have written"));
        Path used = PrivateDir.forUser(tmp);
        assertNotEquals(planted, used);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(used)));
    }

    @Test
    void aLinkIsNeverFollowed() throws Exception {
        Path elsewhere = Files.createDirectory(tmp.resolve("elsewhere"));
        Path link = Files.createSymbolicLink(tmp.resolve("moe-agent-" + System.getProperty("user.name")), elsewhere);
        assertTrue(PrivateDir.problem(link, false).contains("symbolic link"));
        assertNotEquals(link, PrivateDir.forUser(tmp));
    }

    @Test
    void aDirectoryOfAnotherUserIsNeverUsed() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root to give a directory away");
        UserPrincipal nobody = tmp.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
        Path planted = Files.createDirectory(tmp.resolve("planted"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.setOwner(planted, nobody);
        assertTrue(PrivateDir.problem(planted, false).startsWith("belongs to nobody"));
    }

    @Test
    void ourOwnLooseButUnwritableDirectoryIsTightened() throws Exception {
        Path older = Files.createDirectory(tmp.resolve("older"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        assertNull(PrivateDir.problem(older, false));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(older)));
    }

    @Test
    void anExtractedJarIsUsedOnlyWithTheAgentJarsBytes() throws Exception {
        Path agentJar = tmp.resolve("agent.jar");
        byte[] content = "the real nested jar".getBytes();
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(agentJar))) {
            out.putNextEntry(new JarEntry("moe-agent-lib/x.jar"));
            out.write(content);
        }
        try (JarFile jar = new JarFile(agentJar.toFile())) {
            JarEntry e = jar.getJarEntry("moe-agent-lib/x.jar");
            Path target = tmp.resolve("x.jar");
            Files.write(target, content);
            assertTrue(CoreLoader.upToDate(e, target));
            // same size, other bytes: what a size check alone accepted
            byte[] planted = content.clone();
            planted[3] ^= 1;
            Files.write(target, planted);
            assertEquals(content.length, Files.size(target));
            assertTrue(!CoreLoader.upToDate(e, target));
            Files.delete(target);
            Files.createSymbolicLink(target, Files.write(tmp.resolve("real"), content));
            assertTrue(!CoreLoader.upToDate(e, target), "a link, even to the right bytes, is not used");
            CRC32 crc = new CRC32();
            crc.update(content);
            assertEquals(crc.getValue(), e.getCrc());
            assertTrue(Files.isSymbolicLink(target) && Files.exists(target, LinkOption.NOFOLLOW_LINKS));
        }
    }
}
