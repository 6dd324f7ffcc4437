package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.testing.NodeSnapshot;
import org.chefbackend.testing.TestCluster;
import org.chefbackend.testing.TestNode;
import org.junit.jupiter.api.Test;

/**
 * join-cluster --recovery with secrets the cluster does not share is refused by the peer before this node stops
 * anything: its services keep their pids, its files and its role.
 */
class JoinRecoveryRefusalIT {
    @Test
    void wrongSecretsChangeNothing() throws Exception {
        Path base = Path.of("/tmp/cbit-h19a/join");
        try (TestCluster cluster = TestCluster.create(List.of("127.0.0.121", "127.0.0.122"), base, null)) {
            TestNode leader = cluster.nodes.get(0);
            TestNode follower = cluster.nodes.get(1);
            Path wrong = base.resolve("wrong-secrets.json");
            SecretsFile.write(wrong, TestNode.secrets());
            NodeSnapshot before = NodeSnapshot.of(follower);

            TestNode.Run r = follower.ctl("join-cluster", leader.address, "--recovery", "-s", wrong.toString(), "-y");

            assertEquals(2, r.code(), r.out() + r.err());
            assertEquals(1, r.err().lines().count(), "not one line: " + r.err());
            assertTrue(r.err().contains("do not match the cluster at " + leader.address), r.err());
            assertEquals(before, NodeSnapshot.of(follower));
            assertEquals(200, cluster.leaderAnswer(leader));
            assertEquals(1, cluster.synced(leader), "the follower is no longer synced");
        }
    }
}
