/* gen_shapes.c - the kinds of synthetic workflow: their graph shapes at a
 * scale, the kind table, and the one-call gen_workflow().
 *
 * Each shape mirrors the real application (task categories, who reads
 * what, fan-in/fan-out, number of levels) as the saved instances and the
 * Pegasus generator show it; file roles are named as tools/gen_fit.py
 * names them in the real files, so every role has a fitted distribution.
 * Shapes depend only on (scale, width): no randomness, so a scale's task
 * count is a formula (kind_tasks()). Tasks are created in topological
 * order, as gd_finish() requires.
 */
#include "gen_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A task with the real instances' id pattern, "<category>_ID0000001". */
static uint32_t task(gen_dag *d, const char *cat)
{
	return gd_task(d, cat, "%s_ID%07u", cat, (unsigned)d->nt + 1);
}

static uint32_t new_out(gen_dag *d, uint32_t t, const char *role, const char *name)
{
	return gd_out_new(d, t, role, "%s", name);
}

/* ---- Montage ----------------------------------------------------------
 * Per band: mProject per image (raw image + region header -> projected
 * image + area), mDiffFit per overlapping pair (both projections + header
 * -> fit), mConcatFit (all fits), mBgModel, mBackground per image
 * (projection + corrections), mImgtbl, mAdd (all corrected images),
 * mViewer; with several bands a colour mViewer reads every band's mosaic.
 * Images sit row-major on a near-square grid; each overlaps its 8-grid
 * neighbours (about 4 pairs per image, as in the generator's
 * Montage_1000: 662 mDiffFit for 166 images). 8 levels. */

static uint32_t montage_cols(uint32_t n)
{
	uint32_t c = (uint32_t)ceil(sqrt((double)n));
	return c ? c : 1;
}

/* Visits each overlapping pair (i < j) once; returns their number. */
static uint64_t montage_pairs(uint32_t n, gen_dag *d, uint32_t band,
			      const uint32_t *p, const uint32_t *pa,
			      uint32_t hdr, uint32_t *fits)
{
	uint32_t c = montage_cols(n);
	uint64_t k = 0;
	static const int dr[4] = { 0, 1, 1, 1 }, dc[4] = { 1, -1, 0, 1 };
	for (uint32_t i = 0; i < n; i++) {
		int r = (int)(i / c), col = (int)(i % c);
		for (int m = 0; m < 4; m++) {
			int r2 = r + dr[m], c2 = col + dc[m];
			if (c2 < 0 || c2 >= (int)c)
				continue;
			uint64_t j = (uint64_t)r2 * c + (uint64_t)c2;
			if (j >= n)
				continue;
			if (d) {
				uint32_t t = task(d, "mDiffFit");
				gd_in(d, t, p[i]);
				gd_in(d, t, pa[i]);
				gd_in(d, t, p[j]);
				gd_in(d, t, pa[j]);
				gd_in(d, t, hdr);
				fits[k] = gd_out_new(d, t, "mDiffFit.txt", "%u-fit.%06u.%06u.txt",
						     band, i + 1, (unsigned)j + 1);
			}
			k++;
		}
	}
	return k;
}

static uint64_t montage_tasks(uint32_t n, uint32_t bands)
{
	return (uint64_t)bands * (2ull * n + montage_pairs(n, NULL, 0, NULL, NULL, 0, NULL) + 5) +
	       (bands > 1);
}

static int build_montage(gen_dag *d, uint32_t n, uint32_t bands)
{
	uint64_t np = montage_pairs(n, NULL, 0, NULL, NULL, 0, NULL);
	uint32_t *p = malloc(n * sizeof(*p)), *pa = malloc(n * sizeof(*pa));
	uint32_t *cimg = malloc(n * sizeof(*cimg)), *carea = malloc(n * sizeof(*carea));
	uint32_t *fits = malloc((np ? np : 1) * sizeof(*fits));
	uint32_t *mosaic = malloc(bands * sizeof(*mosaic));
	int rc = -ENOMEM;
	if (!p || !pa || !cimg || !carea || !fits || !mosaic)
		goto out;
	uint32_t c = montage_cols(n);
	uint32_t hdr_o = gd_file(d, "input.mProject.hdr", "region-oversized.hdr");
	uint32_t hdr = gd_file(d, "input.mAdd.hdr", "region.hdr");
	for (uint32_t b = 1; b <= bands; b++) {
		uint32_t stat = gd_file(d, "input.mConcatFit.tbl", "%u-stat.tbl", b);
		uint32_t images = gd_file(d, "input.mBgModel.tbl", "%u-images.tbl", b);
		uint32_t projected = gd_file(d, "input.mBackground.tbl", "%u-projected.tbl", b);
		uint32_t corrected = gd_file(d, "input.mImgtbl.tbl", "%u-corrected.tbl", b);
		for (uint32_t i = 0; i < n; i++) {
			unsigned r = i / c + 1, col = i % c + 1;
			uint32_t raw = gd_file(d, "input.mProject.fits", "%u-img_%03u_%03u.fits", b, r, col);
			uint32_t t = task(d, "mProject");
			gd_in(d, t, raw);
			gd_in(d, t, hdr_o);
			p[i] = gd_out_new(d, t, "mProject.fits", "%u-pimg_%03u_%03u.fits", b, r, col);
			pa[i] = gd_out_new(d, t, "mProject.area", "%u-pimg_%03u_%03u_area.fits", b, r, col);
		}
		montage_pairs(n, d, b, p, pa, hdr_o, fits);
		if (d->err)
			break;
		uint32_t t = task(d, "mConcatFit");
		for (uint64_t k = 0; k < np; k++)
			gd_in(d, t, fits[k]);
		gd_in(d, t, stat);
		uint32_t fits_tbl = gd_out_new(d, t, "mConcatFit.tbl", "%u-fits.tbl", b);
		t = task(d, "mBgModel");
		gd_in(d, t, fits_tbl);
		gd_in(d, t, images);
		uint32_t corr = gd_out_new(d, t, "mBgModel.tbl", "%u-corrections.tbl", b);
		for (uint32_t i = 0; i < n; i++) {
			unsigned r = i / c + 1, col = i % c + 1;
			t = task(d, "mBackground");
			gd_in(d, t, projected);
			gd_in(d, t, p[i]);
			gd_in(d, t, pa[i]);
			gd_in(d, t, corr);
			cimg[i] = gd_out_new(d, t, "mBackground.fits", "%u-cimg_%03u_%03u.fits", b, r, col);
			carea[i] = gd_out_new(d, t, "mBackground.area", "%u-cimg_%03u_%03u_area.fits", b, r, col);
		}
		t = task(d, "mImgtbl");
		for (uint32_t i = 0; i < n; i++)
			gd_in(d, t, cimg[i]);
		gd_in(d, t, corrected);
		uint32_t upd = gd_out_new(d, t, "mImgtbl.tbl", "%u-updated-corrected.tbl", b);
		t = task(d, "mAdd");
		for (uint32_t i = 0; i < n; i++) {
			gd_in(d, t, cimg[i]);
			gd_in(d, t, carea[i]);
		}
		gd_in(d, t, upd);
		gd_in(d, t, hdr);
		mosaic[b - 1] = gd_out_new(d, t, "mAdd.fits", "%u-mosaic.fits", b);
		gd_out_new(d, t, "mAdd.area", "%u-mosaic_area.fits", b);
		t = task(d, "mViewer");
		gd_in(d, t, mosaic[b - 1]);
		gd_out_new(d, t, "mViewer.jpg", "%u-mosaic.jpg", b);
	}
	if (bands > 1) {
		uint32_t t = task(d, "mViewer");
		for (uint32_t b = 0; b < bands; b++)
			gd_in(d, t, mosaic[b]);
		new_out(d, t, "mViewer.color_jpg", "mosaic-color.jpg");
	}
	rc = 0;
out:
	free(p);
	free(pa);
	free(cimg);
	free(carea);
	free(fits);
	free(mosaic);
	return rc;
}

/* ---- 1000Genome -------------------------------------------------------
 * Per chromosome: `width` individuals jobs (each reads the whole
 * chromosome VCF and columns.txt), individuals_merge (all of them),
 * sifting (the annotation VCF), and per population (7) mutation_overlap
 * and frequency (merged + sifted + population file + columns). 3 levels,
 * 16 + width tasks per chromosome (41 in the 250k real instance). */

static const char *const populations[7] = { "AFR", "AMR", "EAS", "EUR", "GBR", "SAS", "ALL" };

static int build_genome(gen_dag *d, uint32_t chroms, uint32_t w)
{
	uint32_t *ind = malloc(w * sizeof(*ind));
	if (!ind)
		return -ENOMEM;
	uint32_t columns = gd_file(d, "input.individuals.txt", "columns.txt");
	uint32_t pop[7];
	for (int k = 0; k < 7; k++)
		pop[k] = gd_file(d, "input.mutation_overlap.bin", "%s", populations[k]);
	for (uint32_t ch = 1; ch <= chroms && !d->err; ch++) {
		uint32_t vcf = gd_file(d, "input.individuals.vcf", "ALL.chr%u.250000.vcf", ch);
		/* 250000 lines split evenly, as the real jobs' ranges are */
		for (uint32_t k = 0; k < w; k++) {
			uint32_t t = task(d, "individuals");
			gd_in(d, t, vcf);
			gd_in(d, t, columns);
			ind[k] = gd_out_new(d, t, "individuals.gz", "chr%un-%u-%u.tar.gz", ch,
					    (unsigned)((uint64_t)k * 250000 / w + 1),
					    (unsigned)((uint64_t)(k + 1) * 250000 / w + 1));
		}
		uint32_t t = task(d, "individuals_merge");
		for (uint32_t k = 0; k < w; k++)
			gd_in(d, t, ind[k]);
		uint32_t merged = gd_out_new(d, t, "individuals_merge.gz", "chr%un.tar.gz", ch);
		uint32_t ann = gd_file(d, "input.sifting.vcf",
				       "ALL.chr%u.phase3_shapeit2_mvncall_integrated_v5.20130502.sites.annotation.vcf", ch);
		t = task(d, "sifting");
		gd_in(d, t, ann);
		uint32_t sifted = gd_out_new(d, t, "sifting.txt", "sifted.SIFT.chr%u.txt", ch);
		for (int k = 0; k < 7; k++) {
			static const char *const cat[2] = { "mutation_overlap", "frequency" };
			static const char *const role[2] = { "mutation_overlap.gz", "frequency.gz" };
			static const char *const fmt[2] = { "chr%u-%s.tar.gz", "chr%u-%s-freq.tar.gz" };
			for (int m = 0; m < 2; m++) {
				t = task(d, cat[m]);
				gd_in(d, t, merged);
				gd_in(d, t, sifted);
				gd_in(d, t, pop[k]);
				gd_in(d, t, columns);
				gd_out_new(d, t, role[m], fmt[m], ch, populations[k]);
			}
		}
	}
	free(ind);
	return 0;
}

/* ---- Epigenomics ------------------------------------------------------
 * Per lane: fastqSplit -> `width` chunks, each through filterContams ->
 * sol2sanger -> fast2bfq -> map (a pipeline), then a per-lane mapMerge;
 * a final mapMerge of all lanes, chr21 (maqindex), pileup. maq/maqindex
 * and the reference .bfa are shared inputs. 9 levels. */

/* A task reading `n` inputs, then writing one new file. */
static uint32_t step(gen_dag *d, const char *cat, const uint32_t *in, int n, const char *role,
		     const char *fmt, uint32_t a, uint32_t b)
{
	uint32_t t = task(d, cat);
	for (int k = 0; k < n; k++)
		gd_in(d, t, in[k]);
	return gd_out_new(d, t, role, fmt, a, b);
}

static int build_epigenomics(gen_dag *d, uint32_t lanes, uint32_t w)
{
	uint32_t *maps = malloc(w * sizeof(*maps)), *lane_map = malloc(lanes * sizeof(*lane_map));
	if (!maps || !lane_map) {
		free(maps);
		free(lane_map);
		return -ENOMEM;
	}
	uint32_t maq = gd_file(d, "input.sol2sanger.bin", "maq");
	uint32_t maqidx = gd_file(d, "input.sol2sanger.bin", "maqindex");
	uint32_t bfa = gd_file(d, "input.map.bfa", "chr21.BS.bfa");
	uint32_t bfanull = gd_file(d, "input.pileup.bfa", "chr21.BSnull.bfa");
	for (uint32_t l = 1; l <= lanes && !d->err; l++) {
		uint32_t sfq = gd_file(d, "input.fastqSplit.sfq", "lane%u_sequence.sfq", l);
		uint32_t split = task(d, "fastqSplit");
		gd_in(d, split, sfq);
		for (uint32_t k = 1; k <= w; k++) {
			uint32_t chunk = gd_out_new(d, split, "fastqSplit.sfq", "lane%u_sequence.%u.sfq", l, k);
			/* each stage reads the previous one's output (in[0])
			 * and the shared tools and reference after it */
			uint32_t in[4] = { chunk, maq, maqidx, bfa };
			in[0] = step(d, "filterContams", in, 1, "filterContams.sfq",
				     "lane%u_sequence.%u.nocontam.sfq", l, k);
			in[0] = step(d, "sol2sanger", in, 3, "sol2sanger.fq", "lane%u_sequence.%u.nocontam.fq", l, k);
			in[0] = step(d, "fast2bfq", in, 3, "fast2bfq.bfq", "lane%u_sequence.%u.nocontam.bfq", l, k);
			maps[k - 1] = step(d, "map", in, 4, "map.map", "lane%u_sequence.%u.nocontam.map", l, k);
		}
		uint32_t t = task(d, "mapMerge");
		gd_in(d, t, maq);
		gd_in(d, t, maqidx);
		for (uint32_t k = 0; k < w; k++)
			gd_in(d, t, maps[k]);
		lane_map[l - 1] = gd_out_new(d, t, "mapMerge.map", "lane%u_sequence.nocontam.map", l);
	}
	if (!d->err) {
		uint32_t t = task(d, "mapMerge");
		gd_in(d, t, maq);
		gd_in(d, t, maqidx);
		for (uint32_t l = 0; l < lanes; l++)
			gd_in(d, t, lane_map[l]);
		uint32_t all = new_out(d, t, "mapMerge.map_all", "all.nocontam.map");
		t = task(d, "chr21");
		gd_in(d, t, maq);
		gd_in(d, t, maqidx);
		gd_in(d, t, all);
		uint32_t chr = new_out(d, t, "chr21.map", "all.nocontam.chr21.map");
		t = task(d, "pileup");
		gd_in(d, t, maq);
		gd_in(d, t, maqidx);
		gd_in(d, t, chr);
		gd_in(d, t, bfanull);
		new_out(d, t, "pileup.pileup", "all.nocontam.pileup");
	}
	free(maps);
	free(lane_map);
	return 0;
}

/* ---- CyberShake -------------------------------------------------------
 * Per rupture: ExtractSGT (the site's two SGT volumes -> two subsets),
 * then `width` SeismogramSynthesis (subsets + own rupture variation ->
 * seismogram) each followed by PeakValCalcOkaya; ZipSeis zips every
 * seismogram, ZipPSA every peak value (the generator DAX leaves these
 * inputs undeclared and adds the edges by hand; we declare them). 4
 * levels. */

static int build_cybershake(gen_dag *d, uint32_t ruptures, uint32_t w)
{
	uint64_t n = (uint64_t)ruptures * w;
	uint32_t *grm = malloc(n * sizeof(*grm)), *bsa = malloc(n * sizeof(*bsa));
	if (!grm || !bsa) {
		free(grm);
		free(bsa);
		return -ENOMEM;
	}
	uint64_t k = 0;
	for (uint32_t r = 0; r < ruptures && !d->err; r++) {
		uint32_t fx = gd_file(d, "input.ExtractSGT.sgt", "FFI_%u_fx.sgt", r);
		uint32_t fy = gd_file(d, "input.ExtractSGT.sgt", "FFI_%u_fy.sgt", r);
		uint32_t t = task(d, "ExtractSGT");
		gd_in(d, t, fx);
		gd_in(d, t, fy);
		uint32_t sx = gd_out_new(d, t, "ExtractSGT.sgt", "FFI_%u_subfx.sgt", r);
		uint32_t sy = gd_out_new(d, t, "ExtractSGT.sgt", "FFI_%u_subfy.sgt", r);
		for (uint32_t s = 0; s < w; s++, k++) {
			uint32_t var = gd_file(d, "input.SeismogramSynthesis.variation",
					       "FFI_%u_txt.variation-s%05u-h00000", r, s);
			t = task(d, "SeismogramSynthesis");
			gd_in(d, t, var);
			gd_in(d, t, sx);
			gd_in(d, t, sy);
			grm[k] = gd_out_new(d, t, "SeismogramSynthesis.grm", "Seismogram_FFI_%u_%u.grm", r, s);
			t = task(d, "PeakValCalcOkaya");
			gd_in(d, t, grm[k]);
			bsa[k] = gd_out_new(d, t, "PeakValCalcOkaya.bsa", "PeakVals_FFI_%u_%u.bsa", r, s);
		}
	}
	if (!d->err) {
		uint32_t t = task(d, "ZipSeis");
		for (uint64_t i = 0; i < n; i++)
			gd_in(d, t, grm[i]);
		new_out(d, t, "ZipSeis.zip", "Cybershake_Seismograms.zip");
		t = task(d, "ZipPSA");
		for (uint64_t i = 0; i < n; i++)
			gd_in(d, t, bsa[i]);
		new_out(d, t, "ZipPSA.zip", "Cybershake_PSA.zip");
	}
	free(grm);
	free(bsa);
	return 0;
}

/* ---- Inspiral (LIGO) --------------------------------------------------
 * Per group of `width` data segments: TmpltBank per segment (frames +
 * calibration -> template bank), Inspiral (bank + the same data +
 * injections), Thinca over the group, TrigBank per segment (from the
 * coincidences), a second Inspiral per segment, a second Thinca. The
 * generator's bottleneck jobs are our groups. 6 levels. */

/* An Inspiral job: its bank (template or trigger) + the segment's frames,
 * calibration and injections -> triggers. */
static uint32_t inspiral_job(gen_dag *d, uint32_t bank, const uint32_t *frames, const uint32_t *shared,
			     const char *fmt, uint32_t g, uint32_t i)
{
	uint32_t t = task(d, "Inspiral");
	gd_in(d, t, bank);
	for (int k = 0; k < 2; k++)
		gd_in(d, t, frames[k]);
	for (int k = 0; k < 3; k++)
		gd_in(d, t, shared[k]);
	return gd_out_new(d, t, "Inspiral.xml", fmt, g, i);
}

static int build_inspiral(gen_dag *d, uint32_t groups, uint32_t w)
{
	uint32_t *seg = malloc(2 * (size_t)w * sizeof(*seg)), *insp = malloc(w * sizeof(*insp));
	if (!seg || !insp) {
		free(seg);
		free(insp);
		return -ENOMEM;
	}
	/* calibration (two) and injections; one statement each, as file
	 * indexes follow call order */
	uint32_t shared[3];
	shared[0] = gd_file(d, "input.TmpltBank.fac_darm", "H-CAL_FAC_DARM_ERR_H1_S5_U_060.gwf");
	shared[1] = gd_file(d, "input.TmpltBank.ref_darm", "H-CAL_REF_DARM_ERR_H1_S5_V1.gwf");
	shared[2] = gd_file(d, "input.Inspiral.injection", "HL-INJECTIONS_100.xml");
	for (uint32_t g = 0; g < groups && !d->err; g++) {
		for (uint32_t i = 0; i < w; i++) {
			uint32_t *s = &seg[2 * (size_t)i];
			s[0] = gd_file(d, "input.TmpltBank.gwf", "H-H1_RDS_L4-%u-%u-a.gwf", g, i);
			s[1] = gd_file(d, "input.TmpltBank.gwf", "H-H1_RDS_L4-%u-%u-b.gwf", g, i);
			uint32_t t = task(d, "TmpltBank");
			for (int k = 0; k < 2; k++)
				gd_in(d, t, s[k]);
			gd_in(d, t, shared[0]);
			gd_in(d, t, shared[1]);
			uint32_t bank = gd_out_new(d, t, "TmpltBank.xml", "H1-TMPLTBANK-%u-%u.xml", g, i);
			insp[i] = inspiral_job(d, bank, s, shared, "H1-INSPIRAL-%u-%u.xml", g, i);
		}
		uint32_t t = task(d, "Thinca");
		for (uint32_t i = 0; i < w; i++)
			gd_in(d, t, insp[i]);
		uint32_t thinca = gd_out_new(d, t, "Thinca.xml", "H1-THINCA-%u.xml", g);
		for (uint32_t i = 0; i < w; i++) {
			uint32_t *s = &seg[2 * (size_t)i];
			t = task(d, "TrigBank");
			gd_in(d, t, thinca);
			uint32_t trig = gd_out_new(d, t, "TrigBank.xml", "H1-TRIGBANK-%u-%u.xml", g, i);
			insp[i] = inspiral_job(d, trig, s, shared, "H1-INSPIRAL_TRIG-%u-%u.xml", g, i);
		}
		t = task(d, "Thinca");
		for (uint32_t i = 0; i < w; i++)
			gd_in(d, t, insp[i]);
		gd_out_new(d, t, "Thinca.xml", "H1-THINCA_2-%u.xml", g);
	}
	free(seg);
	free(insp);
	return 0;
}

/* ---- SIPHT ------------------------------------------------------------
 * Per replicon: `width` Patser (one matrix each) -> Patser_concate;
 * Findterm, RNAMotif, Transterm, Blast (genome + own inputs) -> SRNA ->
 * FFN_Parse, Blast_candidate, Blast_QRNA, Blast_paralogues, Blast_synteny
 * (also FFN_Parse's output) -> SRNA_annotate (everything). 5 levels,
 * 12 + width tasks per replicon. */

static int build_sipht(gen_dag *d, uint32_t reps, uint32_t w)
{
	uint32_t *pat = malloc(w * sizeof(*pat));
	if (!pat)
		return -ENOMEM;
	uint32_t rnafold = gd_file(d, "input.Findterm.rnafold", "RNAfold");
	uint32_t desc = gd_file(d, "input.RNAMotif.descriptor", "RNAMofficial_descriptor.txt");
	uint32_t expterm = gd_file(d, "input.Transterm.expterm", "expterm.dat");
	uint32_t alphabet = gd_file(d, "input.Patser.alphabet", "alphabet");
	for (uint32_t r = 1; r <= reps && !d->err; r++) {
		char code[24];
		snprintf(code, sizeof(code), "NC_%06u", r);
		uint32_t fna = gd_file(d, "input.Findterm.fna", "%s.fna", code);
		uint32_t ptt = gd_file(d, "input.Transterm.ptt", "%s.ptt", code);
		uint32_t partners = gd_file(d, "input.Blast.partners", "%s_IGR_partners.txt", code);
		uint32_t ffn = gd_file(d, "input.FFN_Parse.ffn", "%s.ffn", code);
		for (uint32_t k = 0; k < w; k++) {
			uint32_t m = gd_file(d, "input.Patser.matrix", "%s_matrix_%u", code, k);
			uint32_t t = task(d, "Patser");
			gd_in(d, t, m);
			gd_in(d, t, alphabet);
			pat[k] = gd_out_new(d, t, "Patser.out", "%s_PatserOut_%u.txt", code, k);
		}
		uint32_t t = task(d, "Patser_concate");
		for (uint32_t k = 0; k < w; k++)
			gd_in(d, t, pat[k]);
		uint32_t concat = gd_out_new(d, t, "Patser_concate.out", "%s_Block0_Parsed_PatserOut.txt", code);
		uint32_t pre[4];
		t = task(d, "Findterm");
		gd_in(d, t, fna);
		gd_in(d, t, rnafold);
		pre[0] = gd_out_new(d, t, "Findterm.term", "%s_term.txt", code);
		t = task(d, "RNAMotif");
		gd_in(d, t, fna);
		gd_in(d, t, desc);
		pre[1] = gd_out_new(d, t, "RNAMotif.out", "%s_rnamotif.out", code);
		t = task(d, "Transterm");
		gd_in(d, t, fna);
		gd_in(d, t, ptt);
		gd_in(d, t, expterm);
		pre[2] = gd_out_new(d, t, "Transterm.out", "%s_transterm.out", code);
		t = task(d, "Blast");
		gd_in(d, t, fna);
		gd_in(d, t, partners);
		pre[3] = gd_out_new(d, t, "Blast.sorted", "%s_BLAST_sorted.out", code);
		t = task(d, "SRNA");
		for (int k = 0; k < 4; k++)
			gd_in(d, t, pre[k]);
		uint32_t srna = gd_out_new(d, t, "SRNA.out", "%s_srna.out", code);
		t = task(d, "FFN_Parse");
		gd_in(d, t, srna);
		gd_in(d, t, ffn);
		uint32_t parsed = gd_out_new(d, t, "FFN_Parse.ffn", "%s_parsed.ffn", code);
		static const char *const cat[4] = { "Blast_candidate", "Blast_QRNA", "Blast_paralogues", "Blast_synteny" };
		static const char *const role[4] = { "Blast_candidate.out", "Blast_QRNA.txt",
						     "Blast_paralogues.txt", "Blast_synteny.txt" };
		static const char *const fmt[4] = { "%s_blast_candidate.out", "%s_QRNA.txt",
						    "%s_paralogues.txt", "%s_synteny.txt" };
		uint32_t post[4];
		for (int k = 0; k < 4; k++) {
			t = task(d, cat[k]);
			gd_in(d, t, srna);
			if (k == 3)
				gd_in(d, t, parsed);
			post[k] = gd_out_new(d, t, role[k], fmt[k], code);
		}
		t = task(d, "SRNA_annotate");
		gd_in(d, t, srna);
		gd_in(d, t, concat);
		for (int k = 0; k < 4; k++)
			gd_in(d, t, post[k]);
		gd_out_new(d, t, "SRNA_annotate.out", "%s_sRNA.out_annotated", code);
	}
	free(pat);
	return 0;
}

/* ---- GenBase ----------------------------------------------------------
 * The GenBase benchmark (Taft et al., SIGMOD 2014) as the ASL paper runs
 * it, partitioned: per partition a select (microarray block + patient
 * metadata -> selected block) and one job per analytic query (regression,
 * covariance, SVD, biclustering, statistics; `width` of them), then a
 * merge per query and a report. 4 levels. */

static const char *const gb_query[5] = { "regression", "covariance", "svd", "bicluster", "statistics" };
static const char *const gb_role[5] = { "regression.part", "covariance.part", "svd.part",
					"bicluster.part", "statistics.part" };

static int build_genbase(gen_dag *d, uint32_t parts, uint32_t w)
{
	uint32_t *part = malloc((size_t)w * parts * sizeof(*part));
	if (!part)
		return -ENOMEM;
	uint32_t meta = gd_file(d, "input.select.meta", "patients_meta.csv");
	uint32_t genes = gd_file(d, "input.regression.genes", "genes_meta.csv");
	for (uint32_t p = 0; p < parts && !d->err; p++) {
		uint32_t blk = gd_file(d, "input.select.matrix", "microarray_%u.dat", p);
		uint32_t t = task(d, "select");
		gd_in(d, t, blk);
		gd_in(d, t, meta);
		uint32_t sel = gd_out_new(d, t, "select.block", "selected_%u.dat", p);
		for (uint32_t q = 0; q < w; q++) {
			t = task(d, gb_query[q]);
			gd_in(d, t, sel);
			gd_in(d, t, genes);
			part[(size_t)q * parts + p] = gd_out_new(d, t, gb_role[q], "%s_part_%u.dat", gb_query[q], p);
		}
	}
	uint32_t res[5];
	for (uint32_t q = 0; q < w && !d->err; q++) {
		uint32_t t = task(d, "merge");
		for (uint32_t p = 0; p < parts; p++)
			gd_in(d, t, part[(size_t)q * parts + p]);
		res[q] = gd_out_new(d, t, "merge.result", "%s_result.dat", gb_query[q]);
	}
	if (!d->err) {
		uint32_t t = task(d, "report");
		for (uint32_t q = 0; q < w; q++)
			gd_in(d, t, res[q]);
		new_out(d, t, "report.pdf", "genbase_report.pdf");
	}
	free(part);
	return 0;
}

/* ---- binary tree ------------------------------------------------------
 * The ASL paper's binary-tree workflow as a reduction: `scale` leaves read
 * one input each; inner nodes merge `width` (2 = binary) children's
 * outputs until one root remains. 2*scale-1 tasks for width 2,
 * ceil(log_width(scale)) + 1 levels. */

static uint64_t bintree_tasks(uint32_t leaves, uint32_t k)
{
	uint64_t n = leaves, total = leaves;
	while (n > 1) {
		n = (n + k - 1) / k;
		total += n;
	}
	return total;
}

static int build_bintree(gen_dag *d, uint32_t leaves, uint32_t k)
{
	uint32_t *cur = malloc(leaves * sizeof(*cur));
	if (!cur)
		return -ENOMEM;
	for (uint32_t i = 0; i < leaves; i++) {
		uint32_t in = gd_file(d, "input.leaf.dat", "input_%u.dat", i);
		uint32_t t = task(d, "leaf");
		gd_in(d, t, in);
		cur[i] = gd_out_new(d, t, "leaf.dat", "leaf_%u.dat", i);
	}
	uint32_t n = leaves;
	for (uint32_t lvl = 1; n > 1 && !d->err; lvl++) {
		uint32_t m = 0;
		for (uint32_t i = 0; i < n; i += k, m++) {
			uint32_t t = task(d, "merge");
			for (uint32_t j = i; j < n && j < i + k; j++)
				gd_in(d, t, cur[j]);
			cur[m] = gd_out_new(d, t, "merge.dat", "merge_L%u_%u.dat", lvl, m);
		}
		n = m;
	}
	free(cur);
	return 0;
}

/* ---- the table of kinds ---------------------------------------------- */

struct kind_def {
	struct gen_kind_info info;
	uint32_t max_width;
	uint64_t (*tasks)(uint32_t scale, uint32_t width);
	int (*build)(gen_dag *d, uint32_t scale, uint32_t width);
};

static uint64_t t_montage(uint32_t s, uint32_t w) { return montage_tasks(s, w); }
static uint64_t t_genome(uint32_t s, uint32_t w) { return (uint64_t)s * (w + 16); }
static uint64_t t_epi(uint32_t s, uint32_t w) { return (uint64_t)s * (4ull * w + 2) + 3; }
static uint64_t t_cyber(uint32_t s, uint32_t w) { return (uint64_t)s * (2ull * w + 1) + 2; }
static uint64_t t_insp(uint32_t s, uint32_t w) { return (uint64_t)s * (4ull * w + 2); }
static uint64_t t_sipht(uint32_t s, uint32_t w) { return (uint64_t)s * (w + 12ull); }
static uint64_t t_genbase(uint32_t s, uint32_t w) { return (uint64_t)s * (w + 1) + w + 1; }
static uint64_t t_bintree(uint32_t s, uint32_t w) { return bintree_tasks(s, w); }

static const struct kind_def kinds[] = {
	{ { "montage", "input images per band", "bands (colour mViewer added when > 1)",
	    16, 2, 3, "bands*(2*scale + pairs + 5) + (bands>1); pairs ~ 4*scale (8-neighbour grid)",
	    "wfi-montage-chameleon-dss-10d-001.json (472 tasks, 3 bands x 16 images)" },
	  16, t_montage, build_montage },
	{ { "1000genome", "chromosomes", "individuals jobs per chromosome",
	    22, 1, 25, "scale*(width + 16)",
	    "wfi-1000genome-chameleon-22ch-250k-001.json (902 tasks)" },
	  100000, t_genome, build_genome },
	{ { "epigenomics", "sequencing lanes (fastqSplit jobs)", "chunks per lane",
	    4, 1, 68, "scale*(4*width + 2) + 3",
	    "wfi-epigenomics-chameleon-ilmn-4seq-50k-001.json (1095 tasks)" },
	  100000, t_epi, build_epigenomics },
	{ { "cybershake", "ruptures (ExtractSGT jobs)", "seismograms per rupture",
	    4, 1, 124, "scale*(2*width + 1) + 2",
	    "wfsim-CyberShake_1000.xml (1000 tasks, generator DAX)" },
	  1000000, t_cyber, build_cybershake },
	{ { "inspiral", "groups (Thinca pairs)", "data segments per group",
	    24, 1, 10, "scale*(4*width + 2)",
	    "published generator figures (Bharathi et al. WORKS'08); no real instance saved" },
	  100000, t_insp, build_inspiral },
	{ { "sipht", "replicons (sub-workflows)", "Patser jobs per replicon",
	    32, 1, 18, "scale*(width + 12)",
	    "published generator figures (Bharathi et al. WORKS'08); no real instance saved" },
	  100000, t_sipht, build_sipht },
	{ { "genbase", "data partitions", "analytic queries (1-5)",
	    16, 1, 5, "scale*(width + 1) + width + 1",
	    "chosen figures after GenBase (Taft et al. SIGMOD'14); no trace exists" },
	  5, t_genbase, build_genbase },
	{ { "bintree", "leaves", "fan-in (2 = binary)",
	    256, 2, 2, "2*scale - 1 for fan-in 2 (sum of ceil(scale/width^k))",
	    "chosen figures; no trace exists" },
	  64, t_bintree, build_bintree },
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

size_t gen_kind_count(void)
{
	return NKINDS;
}

const struct gen_kind_info *gen_kind(size_t i)
{
	return i < NKINDS ? &kinds[i].info : NULL;
}

const struct gen_kind_info *gen_kind_find(const char *name)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (name && strcmp(kinds[i].info.name, name) == 0)
			return &kinds[i].info;
	return NULL;
}

int gen_skeleton(const char *kind, uint32_t scale, const struct gen_options *opt,
		 gen_dag **out, char *err, size_t errlen)
{
	*out = NULL;
	const struct gen_kind_info *ki = gen_kind_find(kind);
	if (!ki) {
		if (errlen)
			snprintf(err, errlen, "unknown workflow kind '%s' (tiertrain generate --list shows the kinds)",
				 kind ? kind : "(null)");
		return -EINVAL;
	}
	const struct kind_def *k = (const struct kind_def *)ki;
	uint32_t w = opt && opt->width ? opt->width : ki->default_width;
	if (scale < ki->min_scale) {
		if (errlen)
			snprintf(err, errlen, "%s: scale %u is below the minimum %u (scale = %s)",
				 kind, scale, ki->min_scale, ki->scale_means);
		return -EINVAL;
	}
	uint32_t wmin = strcmp(kind, "bintree") == 0 ? 2 : 1;
	if (w < wmin || w > k->max_width) {
		if (errlen)
			snprintf(err, errlen, "%s: width %u is out of range %u..%u (width = %s)",
				 kind, w, wmin, k->max_width, ki->width_means);
		return -EINVAL;
	}
	uint64_t nt = k->tasks(scale, w);
	if (nt > GEN_MAX_TASKS) {
		if (errlen)
			snprintf(err, errlen, "%s: scale %u width %u makes %llu tasks, over the limit of %u",
				 kind, scale, w, (unsigned long long)nt, GEN_MAX_TASKS);
		return -E2BIG;
	}
	gen_dag *d = gd_new(kind, scale, w);
	if (!d) {
		if (errlen)
			snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = k->build(d, scale, w);
	if (!rc)
		rc = gd_finish(d);
	if (!rc && d->nt != nt) {
		snprintf(d->errmsg, sizeof(d->errmsg), "built %zu tasks, the formula says %llu (shape bug)",
			 d->nt, (unsigned long long)nt);
		rc = -EINVAL;
	}
	if (rc) {
		if (errlen)
			snprintf(err, errlen, "%s scale %u: %s", kind, scale,
				 d->errmsg[0] ? d->errmsg : "out of memory");
		gen_dag_destroy(d);
		return rc;
	}
	*out = d;
	return 0;
}

int gen_workflow(const char *kind, uint32_t scale, uint64_t seed,
		 const struct gen_options *opt, char **json_out, size_t *len,
		 char *err, size_t errlen)
{
	gen_dag *d;
	*json_out = NULL;
	int rc = gen_skeleton(kind, scale, opt, &d, err, errlen);
	if (rc)
		return rc;
	rc = gen_dag_draw(d, seed, opt);
	if (rc && errlen)
		snprintf(err, errlen, "%s: a size role or task category has no fitted distribution (gen_table.c out of date)",
			 kind);
	if (!rc) {
		rc = gen_dag_to_json(d, opt ? opt->name : NULL, json_out, len);
		if (rc && errlen)
			snprintf(err, errlen, "%s: cannot write JSON: out of memory", kind);
	}
	gen_dag_destroy(d);
	return rc;
}
