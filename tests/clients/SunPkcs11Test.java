/*
 * Java's SunPKCS11 provider over libpkcs11wsop.so.
 * Usage: java SunPkcs11Test CONFIG PIN
 * Logs in through KeyStore "PKCS11", generates an AES-256 key on the token
 * (the config's attributes(generate, CKO_SECRET_KEY, CKK_AES) make it a
 * private, sensitive token key with the label our policy requires), runs an
 * AES/CBC/PKCS5Padding round trip with update() and doFinal(), and lists
 * the KeyStore. Prints TAP; exits 1 when a check failed.
 */
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.Provider;
import java.security.Security;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.IvParameterSpec;

public final class SunPkcs11Test {
	private static int count;
	private static int failures;

	private static void check(boolean good, String name, String detail) {
		count++;
		if (!good)
			failures++;
		System.out.println((good ? "ok " : "not ok ") + count + " - " + name);
		if (!good && detail != null)
			System.out.println("#   " + detail);
	}

	/* Cipher.update() may hold back a block; the parts are concatenated. */
	private static byte[] runCipher(Cipher c, byte[] in, int[] cuts) throws Exception {
		java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
		int from = 0;
		for (int cut : cuts) {
			byte[] part = c.update(in, from, cut - from);
			if (part != null)
				out.write(part);
			from = cut;
		}
		out.write(c.doFinal(in, from, in.length - from));
		return out.toByteArray();
	}

	public static void main(String[] args) throws Exception {
		Provider base = Security.getProvider("SunPKCS11");
		check(base != null, "SunPKCS11 provider present", null);
		Provider p = base.configure(args[0]);
		String label = args[2];
		Security.addProvider(p);
		check(p.getName().equals("SunPKCS11-pkcs11wsop"), "provider configured", p.getName());

		KeyStore ks = KeyStore.getInstance("PKCS11", p);
		try {
			ks.load(null, "WrongPin".toCharArray());
			check(false, "wrong PIN refused", "KeyStore.load accepted a wrong PIN");
		} catch (java.io.IOException e) {
			check(true, "wrong PIN refused", null);
		}
		ks.load(null, args[1].toCharArray());
		check(true, "logged in (KeyStore.load)", null);

		KeyGenerator kg = KeyGenerator.getInstance("AES", p);
		kg.init(256);
		SecretKey key = kg.generateKey();
		check(key.getAlgorithm().equals("AES"), "AES-256 key generated on the token", key.toString());
		check(key.getEncoded() == null, "the key value is not extractable", null);

		byte[] iv = new byte[16];
		for (int i = 0; i < iv.length; i++)
			iv[i] = (byte)(i * 17);
		byte[] msg = ("SunPKCS11 through pkcs11wsop: a message of a length that is not a "
		              + "multiple of sixteen, in several parts.").getBytes(StandardCharsets.UTF_8);
		int[] cuts = {5, 21, 22, 70};

		Cipher enc = Cipher.getInstance("AES/CBC/PKCS5Padding", p);
		enc.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(iv));
		byte[] ct = runCipher(enc, msg, cuts);
		check(ct.length == (msg.length / 16 + 1) * 16, "ciphertext length", ct.length + " bytes");
		enc.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(iv));
		byte[] ct1 = enc.doFinal(msg);
		check(Arrays.equals(ct, ct1), "update()+doFinal() equals a single doFinal()", null);

		Cipher dec = Cipher.getInstance("AES/CBC/PKCS5Padding", p);
		dec.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(iv));
		byte[] back = runCipher(dec, ct, new int[] {16, 17, 60});
		check(Arrays.equals(back, msg), "decryption with update()+doFinal() round trip", new String(back,
		                                                                                            StandardCharsets.UTF_8));

		Cipher raw = Cipher.getInstance("AES/CBC/NoPadding", p);
		byte[] blocks = Arrays.copyOf(msg, 32);
		raw.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(iv));
		byte[] rct = raw.doFinal(blocks);
		raw.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(iv));
		check(rct.length == 32 && Arrays.equals(raw.doFinal(rct), blocks), "AES/CBC/NoPadding round trip", null);

		// The KeyStore maps labels when it is loaded: load again to see the new key.
		ks.load(null, args[1].toCharArray());
		List<String> aliases = Collections.list(ks.aliases());
		check(aliases.contains(label), "KeyStore lists the key by its label", aliases.toString());
		check(ks.isKeyEntry(label), label + " is a key entry", null);
		java.security.Key again = ks.getKey(label, null);
		check(again instanceof SecretKey && again.getAlgorithm().equals("AES"), "KeyStore.getKey gives the AES key",
		      String.valueOf(again));
		if (again instanceof SecretKey) {
			dec.init(Cipher.DECRYPT_MODE, again, new IvParameterSpec(iv));
			check(Arrays.equals(dec.doFinal(ct), msg), "the listed key decrypts", null);
		}
		System.out.println("1.." + count);
		System.exit(failures == 0 ? 0 : 1);
	}
}
