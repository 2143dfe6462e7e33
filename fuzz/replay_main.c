/*
 * replay_main.c - runs a libFuzzer target over every file of a corpus
 * directory without the fuzzing engine, so seeds are exercised in every
 * ordinary build and CI run. Test code; trusts its arguments.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *d;
	long n;

	if (f == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (d = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return -1;
	}
	if (fread(d, 1, (size_t)n, f) != (size_t)n) {
		free(d);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(d, (size_t)n);
	free(d);
	return 0;
}

int
main(int argc, char **argv)
{
	struct dirent *de;
	char path[4096];
	int i, count = 0;
	DIR *dir;

	for (i = 1; i < argc; i++) {
		if ((dir = opendir(argv[i])) == NULL) {
			if (run_file(argv[i]) != 0) {
				fprintf(stderr, "cannot read %s\n", argv[i]);
				return 1;
			}
			count++;
			continue;
		}
		while ((de = readdir(dir)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
			if (run_file(path) != 0) {
				fprintf(stderr, "cannot read %s\n", path);
				closedir(dir);
				return 1;
			}
			count++;
		}
		closedir(dir);
	}
	if (count == 0) {
		fprintf(stderr, "no corpus files\n");
		return 1;
	}
	printf("replayed %d inputs\n", count);
	return 0;
}
