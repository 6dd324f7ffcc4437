package org.chefbackend.dcs;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLContext;
import org.chefbackend.system.Http;

/**
 * Closes a new etcd cluster to strangers, before anything is written to it: v3 users {@code root} and the cluster's
 * user with a role that may read and write the cluster's prefix only, v3 auth on; v2 auth on with the same root and
 * the guest role's access revoked. etcd keeps all of it cluster-wide, so only the node that forms a cluster runs
 * this; members that join find it done.
 *
 * <p>Idempotent: each run looks at what is there and does what is missing, so a run cut short (a crash, etcd
 * slow) is completed by the next. Until auth is on, anyone who reaches the client port could have added users or
 * roles of their own: those are removed, and our users' passwords set, before auth goes on.
 */
public final class EtcdAuthSetup {
    private static final String ROOT_ROLE = "root";
    private static final String GUEST_ROLE = "guest";
    private static final String NOT_ENABLED = "etcdserver: authentication is not enabled";
    private static final String EXISTS_SUFFIX = "already exists";

    private final String endpoint;
    private final SSLContext tls;
    private final EtcdCredentials root;
    private final EtcdCredentials clusterUser;
    private final String prefix;
    private final Duration timeout;
    private final List<String> done = new ArrayList<>();

    private EtcdAuthSetup(String endpoint, SSLContext tls, EtcdCredentials root, EtcdCredentials clusterUser,
            String prefix, Duration timeout) {
        this.endpoint = endpoint;
        this.tls = tls;
        this.root = root;
        this.clusterUser = clusterUser;
        this.prefix = prefix;
        this.timeout = timeout;
    }

    /**
     * Makes sure auth is on as described above; what it had to do (empty when everything was in place).
     *
     * @param endpoint one member's client URL
     * @param prefix the only keys {@code clusterUser} may read and write ("/chef-backend/")
     * @throws DcsException when etcd cannot be asked, or auth is on but refuses this cluster's root password
     */
    public static List<String> ensure(String endpoint, SSLContext tls, EtcdCredentials root,
            EtcdCredentials clusterUser, String prefix, Duration timeout) {
        if (!ROOT_ROLE.equals(root.user()) || ROOT_ROLE.equals(clusterUser.user())) {
            throw new IllegalArgumentException("etcd enables auth only for user root; the cluster's user is another");
        }
        EtcdAuthSetup setup = new EtcdAuthSetup(endpoint, tls, root, clusterUser, new Keyspace(prefix).prefix(),
                timeout);
        setup.v3();
        setup.v2();
        return List.copyOf(setup.done);
    }

    // ---- v3: users and roles, then auth on

    private void v3() {
        EtcdGateway anonymous = new EtcdGateway(List.of(endpoint), null, tls);
        if (v3Enabled(anonymous)) {
            return;
        }
        Set<String> ours = Set.of(root.user(), clusterUser.user());
        for (JsonNode user : v3(anonymous, "list etcd users", "/v3/auth/user/list", EtcdJson.object()).path("users")) {
            if (!ours.contains(user.asText())) {
                v3(anonymous, "delete etcd user " + user.asText(), "/v3/auth/user/delete", named(user.asText()));
                done.add("deleted etcd user " + user.asText() + ", not one of chef-backend's");
            }
        }
        Set<String> ourRoles = Set.of(ROOT_ROLE, clusterUser.user());
        for (JsonNode role : v3(anonymous, "list etcd roles", "/v3/auth/role/list", EtcdJson.object()).path("roles")) {
            if (!ourRoles.contains(role.asText())) {
                v3(anonymous, "delete etcd role " + role.asText(), "/v3/auth/role/delete", EtcdJson.object()
                        .put("role", role.asText()));
                done.add("deleted etcd role " + role.asText() + ", not one of chef-backend's");
            }
        }
        addRole(anonymous, ROOT_ROLE);
        addRole(anonymous, clusterUser.user());
        ObjectNode grant = EtcdJson.object().put("name", clusterUser.user());
        ObjectNode range = EtcdJson.prefix(prefix);
        grant.putObject("perm").put("permType", "READWRITE").setAll(range);
        v3(anonymous, "let role " + clusterUser.user() + " read and write " + prefix, "/v3/auth/role/grant", grant);
        addUser(anonymous, root, ROOT_ROLE);
        addUser(anonymous, clusterUser, clusterUser.user());
        v3(anonymous, "enable etcd auth", "/v3/auth/enable", EtcdJson.object());
        done.add("etcd v3 auth enabled: users " + root.user() + " and " + clusterUser.user() + " (read and write "
                + prefix + " only)");
    }

    /** Whether v3 auth is on; our root logs in then, or this is not our cluster. */
    private boolean v3Enabled(EtcdGateway anonymous) {
        ObjectNode login = EtcdJson.object().put("name", root.user()).put("password", root.password());
        try {
            anonymous.post("log in as etcd root", "/v3/auth/authenticate", login, timeout);
            return true;
        } catch (DcsException e) {
            if (NOT_ENABLED.equals(EtcdRefusal.message(e))) {
                return false;
            }
            throw EtcdRefusal.message(e) == null ? e : new DcsException("etcd's auth is on but refuses this cluster's "
                    + "root password (" + EtcdRefusal.message(e) + "); is this etcd another cluster's?", e.getCause());
        }
    }

    private void addRole(EtcdGateway etcd, String role) {
        if (createOrExists(etcd, "add etcd role " + role, "/v3/auth/role/add", named(role))) {
            done.add("added etcd role " + role);
        }
    }

    /** The user with our password and exactly {@code role}, whatever someone made of it before auth was on. */
    private void addUser(EtcdGateway etcd, EtcdCredentials user, String role) {
        ObjectNode add = named(user.user()).put("password", user.password());
        if (createOrExists(etcd, "add etcd user " + user.user(), "/v3/auth/user/add", add)) {
            done.add("added etcd user " + user.user());
        } else {
            v3(etcd, "set etcd user " + user.user() + "'s password", "/v3/auth/user/changepw", add);
        }
        JsonNode roles = v3(etcd, "get etcd user " + user.user(), "/v3/auth/user/get", named(user.user()))
                .path("roles");
        boolean has = false;
        for (JsonNode r : roles) {
            if (r.asText().equals(role)) {
                has = true;
            } else {
                v3(etcd, "revoke role " + r.asText() + " from " + user.user(), "/v3/auth/user/revoke",
                        named(user.user()).put("role", r.asText()));
            }
        }
        if (!has) {
            v3(etcd, "grant role " + role + " to " + user.user(), "/v3/auth/user/grant",
                    EtcdJson.object().put("user", user.user()).put("role", role));
        }
    }

    /** True when this call created it; false when it existed. */
    private boolean createOrExists(EtcdGateway etcd, String what, String path, ObjectNode body) {
        try {
            v3(etcd, what, path, body);
            return true;
        } catch (DcsException e) {
            String refused = EtcdRefusal.message(e);
            if (refused != null && refused.endsWith(EXISTS_SUFFIX)) {
                return false;
            }
            throw e;
        }
    }

    private JsonNode v3(EtcdGateway etcd, String what, String path, ObjectNode body) {
        return etcd.post(what, path, body, timeout);
    }

    private static ObjectNode named(String name) {
        return EtcdJson.object().put("name", name);
    }

    // ---- v2: its own root, auth on, guest revoked (GET /v2/members stays open: Chef Server frontends read it)

    private void v2() {
        if (!v2("is v2 auth on", "GET", "/v2/auth/enable", null, false).path("enabled").asBoolean(false)) {
            for (JsonNode user : v2("list v2 users", "GET", "/v2/auth/users", null, false).path("users")) {
                String name = user.path("user").asText();
                if (!name.equals(root.user())) {
                    v2("delete v2 user " + name, "DELETE", "/v2/auth/users/" + name, null, false);
                    done.add("deleted etcd v2 user " + name + ", not one of chef-backend's");
                }
            }
            v2("set v2 user root", "PUT", "/v2/auth/users/" + root.user(), EtcdJson.object()
                    .put("user", root.user()).put("password", root.password()), false);
            v2("enable v2 auth", "PUT", "/v2/auth/enable", null, false);
            done.add("etcd v2 auth enabled");
        }
        JsonNode kv = v2("read the v2 guest role", "GET", "/v2/auth/roles/" + GUEST_ROLE, null, true)
                .path("permissions").path("kv");
        if (!kv.path("read").isEmpty() || !kv.path("write").isEmpty()) {
            ObjectNode revoke = EtcdJson.object().put("role", GUEST_ROLE);
            revoke.putObject("revoke").putObject("kv").setAll(Map.of("read", kv.path("read"), "write",
                    kv.path("write")));
            v2("revoke the v2 guest role's access", "PUT", "/v2/auth/roles/" + GUEST_ROLE, revoke, true);
            done.add("etcd v2 guest access revoked (read " + kv.path("read") + ", write " + kv.path("write") + ")");
        }
    }

    private JsonNode v2(String what, String method, String path, ObjectNode body, boolean asRoot) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (body != null) {
            headers.put("Content-Type", "application/json");
        }
        if (asRoot) {
            headers.put("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                    (root.user() + ":" + root.password()).getBytes(UTF_8)));
        }
        Http.Response r;
        try {
            r = Http.send(method, endpoint + path, headers, body == null ? null : body.toString().getBytes(UTF_8),
                    timeout, timeout, tls);
        } catch (IOException e) {
            throw new DcsException(what + ": cannot reach etcd at " + endpoint + ": " + EtcdGateway.describe(e), e);
        }
        JsonNode answer;
        try {
            answer = r.body().length == 0 ? EtcdJson.object() : EtcdGateway.JSON.readTree(r.body());
        } catch (IOException e) {
            throw new DcsException(what + ": etcd's answer is not JSON (HTTP " + r.status() + ")", e);
        }
        if (!r.ok()) {
            String message = answer.path("message").asText("HTTP " + r.status());
            throw new DcsException(what + ": " + message + (r.status() == 401 && asRoot
                    ? " (etcd's v2 auth refuses this cluster's root password; is this etcd another cluster's?)" : ""));
        }
        return answer;
    }
}
