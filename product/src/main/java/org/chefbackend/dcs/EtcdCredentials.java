package org.chefbackend.dcs;

/** An etcd user (v3 auth): the token etcd gives for them goes with every request. */
public record EtcdCredentials(String user, String password) {
    public EtcdCredentials {
        if (user == null || user.isEmpty() || password == null) {
            throw new IllegalArgumentException("etcd credentials need a user name and a password");
        }
    }

    @Override
    public String toString() {
        return "EtcdCredentials[user=" + user + "]"; // never the password
    }
}
