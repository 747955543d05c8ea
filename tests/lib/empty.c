/* Keeps cs_testlib a valid library while it has no other sources. */
typedef int cs_testlib_nonempty;
