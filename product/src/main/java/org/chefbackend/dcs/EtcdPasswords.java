package org.chefbackend.dcs;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.chefbackend.system.Http;

/**
 * Gives etcd's users the passwords of the next secrets (rotate-secrets), as root: the cluster's user (v3), v2's root,
 * then v3's root, last because its change ends the session this runs in. etcd keeps users cluster-wide, so one member
 * is asked. Idempotent: a run cut short is finished by the next, which logs in with the next root password once the
 * current one is refused.
 */
public final class EtcdPasswords {
    private EtcdPasswords() {
    }

    /** What it changed, one line each; a DcsException (one line) when etcd refuses or cannot be reached. */
    public static List<String> rotate(String endpoint, SSLContext tls, EtcdCredentials currentRoot,
            EtcdCredentials nextRoot, EtcdCredentials nextClusterUser, Duration timeout) {
        if (!currentRoot.user().equals(nextRoot.user())) {
            throw new IllegalArgumentException("the current and next root must be the same etcd user");
        }
        List<String> done = new ArrayList<>();
        EtcdGateway root = new EtcdGateway(List.of(endpoint), currentRoot, tls);
        root.fallBackTo(nextRoot, () -> done.add("etcd's root already had the next password (a run before)"));
        changeV3(root, nextClusterUser, timeout);
        done.add("etcd user " + nextClusterUser.user() + ": password changed");
        changeV2Root(endpoint, tls, currentRoot, nextRoot, timeout);
        done.add("etcd v2 user " + nextRoot.user() + ": password changed");
        changeV3(root, nextRoot, timeout);
        done.add("etcd user " + nextRoot.user() + ": password changed");
        return done;
    }

    private static void changeV3(EtcdGateway root, EtcdCredentials user, Duration timeout) {
        root.post("set etcd user " + user.user() + "'s password", "/v3/auth/user/changepw",
                EtcdJson.object().put("name", user.user()).put("password", user.password()), timeout);
    }

    /** v2 keeps a root of its own: asked as the current root, or the next one when a run before changed it. */
    private static void changeV2Root(String endpoint, SSLContext tls, EtcdCredentials currentRoot,
            EtcdCredentials nextRoot, Duration timeout) {
        byte[] body = EtcdJson.object().put("user", nextRoot.user()).put("password", nextRoot.password()).toString()
                .getBytes(UTF_8);
        int status = 0;
        for (EtcdCredentials as : List.of(currentRoot, nextRoot)) {
            Map<String, String> headers = Map.of("Content-Type", "application/json", "Authorization", "Basic "
                    + Base64.getEncoder().encodeToString((as.user() + ":" + as.password()).getBytes(UTF_8)));
            try {
                status = Http.send("PUT", endpoint + "/v2/auth/users/" + nextRoot.user(), headers, body, timeout,
                        timeout, tls).status();
            } catch (IOException e) {
                throw new DcsException("set etcd v2 root's password: cannot reach etcd at " + endpoint + ": "
                        + EtcdGateway.describe(e), e);
            }
            if (status / 100 == 2) {
                return;
            }
            if (status != 401) {
                break;
            }
        }
        throw new DcsException("set etcd v2 root's password: etcd answered HTTP " + status);
    }
}
