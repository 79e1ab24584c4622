// SPDX-License-Identifier: GPL-2.0-or-later
/* A types file checked against VMCOREINFO: OFFSET() and SIZE() lines the file also has must
 * agree; those it lacks are not counted; one that disagrees refuses the file, naming it. */
#include <bpf/btf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "btf/btf.h"
#include "core/btf_file.h"
#include "sym/vmcoreinfo.h"

static struct nfm_btf *make(void)
{
	struct btf *btf = btf__new_empty();
	struct nfm_btf *b;
	int ptr, lh, u32, z;

	assert_non_null(btf);
	u32 = btf__add_int(btf, "u32", 4, 0);
	ptr = btf__add_ptr(btf, u32);	/* before the struct: fields go to the last type added */
	lh = btf__add_struct(btf, "list_head", 16);
	assert_int_equal(btf__add_field(btf, "next", ptr, 0, 0), 0);
	assert_int_equal(btf__add_field(btf, "prev", ptr, 64, 0), 0);
	z = btf__add_struct(btf, "zone", 24);
	assert_true(z > 0);
	assert_int_equal(btf__add_field(btf, "flags", u32, 0, 0), 0);
	assert_int_equal(btf__add_field(btf, "free_area", lh, 64, 0), 0);
	assert_int_equal(nfm_btf_wrap(btf, &b), 0);
	return b;
}

static int check(const struct nfm_btf *b, const char *text, char *why, size_t size)
{
	struct nfm_vmcoreinfo *vi;
	int n;

	assert_int_equal(nfm_vmcoreinfo_parse(text, strlen(text), &vi), 0);
	n = nfm_btf_check_vmcoreinfo(b, vi, why, size);
	nfm_vmcoreinfo_free(vi);
	return n;
}

static void test_agree_and_disagree(void **state)
{
	struct nfm_btf *b = make();
	char why[256] = "";

	/* three agree; zone.lock and SIZE(page) are not in the file; LENGTH() is not a layout */
	assert_int_equal(check(b, "OSRELEASE=6.1.0\nOFFSET(list_head.prev)=8\nSIZE(list_head)=16\n"
			       "OFFSET(zone.free_area)=8\nOFFSET(zone.lock)=4\nSIZE(page)=64\n"
			       "LENGTH(zone.free_area)=11\nSYMBOL(init_task)=ffffffff82a0c940\n",
			       why, sizeof(why)), 3);
	assert_int_equal(check(b, "OSRELEASE=6.1.0\nOFFSET(list_head.next)=0\nSIZE(zone)=32\n",
			       why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "SIZE(zone) is 32 in this kernel's VMCOREINFO, 24 in the file");
	assert_int_equal(check(b, "OSRELEASE=6.1.0\nOFFSET(zone.free_area)=16\n", why, sizeof(why)),
			 -EBADMSG);
	assert_non_null(strstr(why, "OFFSET(zone.free_area) is 16"));
	/* malformed keys and values are not checked */
	assert_int_equal(check(b, "OSRELEASE=6.1.0\nOFFSET(list_head)=8\nOFFSET()=1\nSIZE(zone)=x\n"
			       "OFFSET(list_head.prev=8\n", why, sizeof(why)), 0);
	nfm_btf_free(b);
}

/* An ELF without .BTF (a DWARF-only vmlinux, here /bin/true) is not "no such file". */
static void test_why(void **state)
{
	struct nfm_btf *b;
	char why[256];
	int err = nfm_btf_new_file("/bin/true", &b);

	assert_int_equal(err, -ENOENT);
	nfm_btf_file_why("/bin/true", err, why, sizeof(why));
	assert_non_null(strstr(why, "no BTF in it"));
	assert_non_null(strstr(why, "pahole --btf_encode_detached"));
	err = nfm_btf_new_file("/nonexistent.btf", &b);
	nfm_btf_file_why("/nonexistent.btf", err, why, sizeof(why));
	assert_string_equal(why, "cannot read BTF: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agree_and_disagree),
		cmocka_unit_test(test_why),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
