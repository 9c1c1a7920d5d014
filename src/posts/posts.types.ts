export interface PostView {
  id: number;
  content: string;
  authorId: number;
  author: { id: number; name: string };
  createdAt: Date;
  updatedAt: Date;
}
