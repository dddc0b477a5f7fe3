/* utc_link.h: the kernels' link names. This copy, in utc's runtime folder, renames
 * nothing (the kernels keep their plain names for utc's own tests). In a generated folder
 * utc writes its own utc_link.h in its place (codegen/templates/utc_link.h.j2). */
#ifndef UTC_LINK_H
#define UTC_LINK_H
#endif /* UTC_LINK_H */
